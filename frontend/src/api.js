// The one module that talks to the analysis server. Every URL is relative
// (/api/...), so the page works behind the Vite proxy in development and on the
// Flask server's own port in production without knowing any host name.
import limits from '@config/limits.json'

export const MAX_UPLOAD_BYTES = limits.max_upload_bytes
export const ACCEPTED_TYPES = limits.accepted_types

/** An API failure with a message a person can act on. */
export class ApiError extends Error {
  constructor(message, { status = null, title = '', detail = '', kind = 'http', knownModels = [] } = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = detail
    this.kind = kind
    this.knownModels = knownModels
  }
}

export function formatMegabytes(bytes) {
  const mb = bytes / (1024 * 1024)
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)}\u00a0MB`
}

const LIMIT_TEXT = formatMegabytes(MAX_UPLOAD_BYTES)
const TYPE_NAMES = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
  'image/bmp': 'BMP',
  'image/gif': 'GIF',
}
export const ACCEPTED_TYPE_TEXT = (() => {
  const names = ACCEPTED_TYPES.map((t) => TYPE_NAMES[t] || t)
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('')
})()

/** Friendly text for each problem+json status the server sends. */
export function messageForStatus(status, problem = {}) {
  switch (status) {
    case 400:
      return 'No image was received. Please choose an image and try again.'
    case 401:
      return 'This server needs an API key. Please enter it in the "API key" field and try again.'
    case 429:
      return problem.retry_after
        ? `Too many requests for now. Please wait ${problem.retry_after} seconds and try again.`
        : 'Too many requests for now. Please wait a minute and try again.'
    case 404:
      return problem.known_models?.length
        ? `The selected model isn't available on the server. Please choose one of: ${problem.known_models.join(', ')}.`
        : "The selected model isn't available on the server. Please choose another model."
    case 405:
      return 'The analysis server refused this kind of request. Please reload the page and try again.'
    case 413:
      return `This file is larger than the ${LIMIT_TEXT} limit. Please choose a smaller image.`
    case 415:
      return `This file type isn't supported. Please choose a ${ACCEPTED_TYPE_TEXT} image.`
    case 422:
      return "The image couldn't be analysed (empty, too large in pixels or damaged). Please try a different image."
    case 503:
      return "The analysis server isn't ready to analyse images (no model is loaded yet). Please try again later."
    default:
      if (status >= 500) {
        return `The analysis server ran into a problem (error ${status}). Please try again in a moment.`
      }
      return `The request failed (error ${status}). Please try again.`
  }
}

export const NETWORK_MESSAGE =
  "Can't reach the analysis server. Check your connection, make sure the server is running, and try again."

/** Check a file before uploading it; returns an error message or null. */
export function validateFile(file) {
  if (!file) return 'No image was received. Please choose an image and try again.'
  if (!ACCEPTED_TYPES.includes(file.type)) {
    const what = file.name ? `"${file.name}"` : 'This file'
    return `${what} isn't a supported image. Please choose a ${ACCEPTED_TYPE_TEXT} image.`
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return `This file is ${formatMegabytes(file.size)}, larger than the ${LIMIT_TEXT} limit. Please choose a smaller image.`
  }
  if (file.size === 0) {
    return 'This file is empty. Please choose another image.'
  }
  return null
}

function apiUrl(path, params) {
  // Resolve against the page so the URL stays relative to wherever it is served.
  const base = typeof window !== 'undefined' ? window.location.href : 'http://localhost/'
  const url = new URL(path, base)
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value)
  }
  return url.toString()
}

async function parseError(response) {
  let problem = {}
  const type = response.headers.get('content-type') || ''
  if (type.includes('json')) {
    try {
      problem = await response.json()
    } catch {
      problem = {}
    }
  }
  const retryAfter = response.headers.get('retry-after')
  return new ApiError(messageForStatus(response.status, { ...problem, retry_after: retryAfter }), {
    status: response.status,
    title: problem.title || response.statusText || '',
    detail: problem.detail || '',
    kind: 'http',
    knownModels: problem.known_models || [],
  })
}

// The API key, when the server asks for one: kept for this tab only (sessionStorage), sent as a Bearer token.
const KEY_STORAGE = 'deepfake-detector.api-key'
const authListeners = new Set()

export function getApiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || ''
  } catch {
    return ''
  }
}

export function setApiKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key)
    else sessionStorage.removeItem(KEY_STORAGE)
  } catch {
    // Storage switched off: the key is simply not kept.
  }
}

/** Call `listener` whenever the server answers 401 (it wants a key); returns the unsubscribe function. */
export function onAuthRequired(listener) {
  authListeners.add(listener)
  return () => authListeners.delete(listener)
}

function withApiKey(headers = {}) {
  const key = getApiKey()
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers
}

async function request(url, init = {}) {
  let response
  try {
    response = await fetch(url, { ...init, headers: withApiKey(init.headers) })
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    throw new ApiError(NETWORK_MESSAGE, { kind: 'network', detail: String(err?.message || err) })
  }
  if (response.status === 401) authListeners.forEach((listener) => listener())
  if (!response.ok) throw await parseError(response)
  try {
    return await response.json()
  } catch {
    throw new ApiError('The analysis server sent an answer this page could not read. Please try again.', {
      status: response.status,
      kind: 'parse',
    })
  }
}

/** GET /api/models → {default, models: [...]} */
export function fetchModels({ signal } = {}) {
  return request(apiUrl('/api/models'), { signal, headers: { Accept: 'application/json' } })
}

/**
 * POST /api/predict with the image as multipart field `file`.
 * Options travel both as form fields and as query parameters (the server accepts either).
 */
export function predict(file, { model, faces = 'on', explain = true, signal } = {}) {
  const params = { model, faces, explain: explain ? '1' : undefined }
  const body = new FormData()
  body.append('file', file, file.name || 'image')
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') body.append(key, value)
  }
  return request(apiUrl('/api/predict', params), {
    method: 'POST',
    body,
    signal,
    headers: { Accept: 'application/json, application/problem+json' },
  })
}

/** Words for a calibrated probability of fake. */
export function describeProbability(p) {
  if (p < 0.1) return 'very likely real'
  if (p < 0.35) return 'likely real'
  if (p < 0.65) return 'uncertain'
  if (p < 0.9) return 'likely fake'
  return 'very likely fake'
}

export function formatPercent(p) {
  return `${Math.round(p * 100)}%`
}
