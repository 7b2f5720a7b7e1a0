// The one module that talks to the analysis server. Every URL is relative
// (/api/...), so the page works behind the Vite proxy in development and on the
// Flask server's own port in production without knowing any host name.
import limits from '@config/limits.json'

export const MAX_UPLOAD_BYTES = limits.max_upload_bytes
export const ACCEPTED_TYPES = limits.accepted_types
export const MAX_VIDEO_UPLOAD_BYTES = limits.max_video_upload_bytes
export const ACCEPTED_VIDEO_TYPES = limits.accepted_video_types
export const MAX_VIDEO_DURATION_S = limits.max_video_duration_s

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

/** Seconds as m:ss.d, e.g. 3.24 → "0:03.2". */
export function formatClock(seconds) {
  const tenths = Math.round(Math.max(0, seconds) * 10)
  const minutes = Math.floor(tenths / 600)
  const rest = ((tenths % 600) / 10).toFixed(1).padStart(4, '0')
  return `${minutes}:${rest}`
}

const LIMIT_TEXT = formatMegabytes(MAX_UPLOAD_BYTES)
const VIDEO_LIMIT_TEXT = formatMegabytes(MAX_VIDEO_UPLOAD_BYTES)
function formatDurationLimit(seconds) {
  const [count, unit] = seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second']
  return `${count}\u00a0${unit}${count === 1 ? '' : 's'}`
}
export const DURATION_LIMIT_TEXT = formatDurationLimit(MAX_VIDEO_DURATION_S)
const TYPE_NAMES = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/webp': 'WebP',
  'image/bmp': 'BMP',
  'image/gif': 'GIF',
  'image/heic': 'HEIC',
  'image/heif': 'HEIF',
  'image/avif': 'AVIF',
  'video/mp4': 'MP4',
  'video/quicktime': 'MOV',
  'video/webm': 'WebM',
  'video/x-matroska': 'MKV',
  'video/x-msvideo': 'AVI',
}
// Browsers leave File.type empty for formats the operating system doesn't know (often HEIC, MKV).
const EXTENSION_TYPES = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  bmp: 'image/bmp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  avif: 'image/avif',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
}

function listOf(types) {
  const names = types.map((t) => TYPE_NAMES[t] || t)
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('')
}

export const ACCEPTED_TYPE_TEXT = listOf(ACCEPTED_TYPES)
export const ACCEPTED_VIDEO_TYPE_TEXT = listOf(ACCEPTED_VIDEO_TYPES)
/** What the file picker offers: every accepted type, and the file endings of those a system may not know. */
export const ACCEPT_ATTRIBUTE = [
  ...ACCEPTED_TYPES,
  ...ACCEPTED_VIDEO_TYPES,
  ...Object.keys(EXTENSION_TYPES).map((extension) => `.${extension}`),
].join(',')

/** The MIME type of a file, from its name when the browser gave none. */
function fileType(file) {
  if (file?.type && file.type !== 'application/octet-stream') return file.type
  const extension = (file?.name || '').split('.').pop().toLowerCase()
  return EXTENSION_TYPES[extension] || file?.type || ''
}

/** 'image', 'video', or null for a file the server won't take. */
export function mediaKind(file) {
  const type = fileType(file)
  if (ACCEPTED_TYPES.includes(type)) return 'image'
  if (ACCEPTED_VIDEO_TYPES.includes(type)) return 'video'
  return null
}

function problemSlug(problem) {
  return String(problem?.type || '').match(/[^:/#]*$/)[0]
}

function unprocessableMessage(problem, media) {
  switch (problemSlug(problem)) {
    case 'video-too-long':
      return `This clip is longer than the limit of ${DURATION_LIMIT_TEXT}. Please trim it or choose a shorter clip.`
    case 'undecodable-video':
      return "This clip couldn't be decoded (it may be damaged or cut short). Please try a different clip."
    case 'no-video-stream':
      return 'This file has no video in it (it may be sound only). Please choose a clip with video.'
    default:
      return media === 'video'
        ? "The clip couldn't be analysed (empty or damaged). Please try a different clip."
        : "The image couldn't be analysed (empty, too large in pixels or damaged). Please try a different image."
  }
}

/** Friendly text for each problem+json status the server sends, worded for an image or a clip. */
export function messageForStatus(status, problem = {}, media = 'image') {
  const clip = media === 'video'
  switch (status) {
    case 400:
      return clip
        ? 'No clip was received. Please choose a clip and try again.'
        : 'No image was received. Please choose an image and try again.'
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
      return clip
        ? `This clip is larger than the ${VIDEO_LIMIT_TEXT} limit for clips. Please choose a smaller clip.`
        : `This file is larger than the ${LIMIT_TEXT} limit. Please choose a smaller image.`
    case 415:
      return clip
        ? `This clip's format or video codec isn't supported. Please choose an ${ACCEPTED_VIDEO_TYPE_TEXT} clip, or convert it to an H.264 MP4.`
        : `This file type isn't supported. Please choose a ${ACCEPTED_TYPE_TEXT} image.`
    case 422:
      return unprocessableMessage(problem, media)
    case 503:
      if (problemSlug(problem) === 'time-budget-exhausted') {
        return clip
          ? 'The analysis took too long and was stopped (the server may be busy). Please try again later, or with a shorter clip.'
          : 'The analysis took too long and was stopped (the server may be busy). Please try again later.'
      }
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

function describeFile(file) {
  return file.name ? `"${file.name}"` : 'This file'
}

/** Check a file before uploading it; returns an error message or null. */
export function validateFile(file) {
  if (!file) return 'No image was received. Please choose an image and try again.'
  const media = mediaKind(file)
  if (!media && fileType(file).startsWith('video/')) {
    return `${describeFile(file)} is a kind of video this page can't read. Please choose an ${ACCEPTED_VIDEO_TYPE_TEXT} clip.`
  }
  if (!media) {
    return `${describeFile(file)} isn't a supported image or clip. Please choose a ${ACCEPTED_TYPE_TEXT} image or an ${ACCEPTED_VIDEO_TYPE_TEXT} clip.`
  }
  if (media === 'image' && file.size > MAX_UPLOAD_BYTES) {
    return `This file is ${formatMegabytes(file.size)}, larger than the ${LIMIT_TEXT} limit. Please choose a smaller image.`
  }
  if (media === 'video' && file.size > MAX_VIDEO_UPLOAD_BYTES) {
    return `${describeFile(file)} is ${formatMegabytes(file.size)}, larger than the ${VIDEO_LIMIT_TEXT} limit for clips. Please choose a smaller or shorter clip.`
  }
  if (file.size === 0) {
    return 'This file is empty. Please choose another file.'
  }
  return null
}

/** Check a clip's length once the browser has read it; returns an error message or null. */
export function validateDuration(seconds) {
  if (!(seconds > MAX_VIDEO_DURATION_S)) return null
  return `This clip lasts ${formatClock(seconds)}, longer than the limit of ${DURATION_LIMIT_TEXT}. Please trim it or choose a shorter clip.`
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

function errorFromAnswer({ status, statusText, contentType, retryAfter, text }, media) {
  let problem = {}
  if ((contentType || '').includes('json')) {
    try {
      problem = JSON.parse(text)
    } catch {
      problem = {}
    }
  }
  return new ApiError(messageForStatus(status, { ...problem, retry_after: retryAfter }, media), {
    status,
    title: problem.title || statusText || '',
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

function parseAnswer(answer, media) {
  if (answer.status === 401) authListeners.forEach((listener) => listener())
  if (answer.status < 200 || answer.status >= 300) throw errorFromAnswer(answer, media)
  try {
    return JSON.parse(answer.text)
  } catch {
    throw new ApiError('The analysis server sent an answer this page could not read. Please try again.', {
      status: answer.status,
      kind: 'parse',
    })
  }
}

function networkError(err) {
  return new ApiError(NETWORK_MESSAGE, { kind: 'network', detail: String(err?.message || err || '') })
}

async function request(url, init) {
  let response
  let text
  try {
    response = await fetch(url, { ...init, headers: withApiKey(init?.headers) })
    text = await response.text()
  } catch (err) {
    if (err?.name === 'AbortError') throw err
    throw networkError(err)
  }
  const { status, statusText } = response
  const contentType = response.headers.get('content-type')
  return parseAnswer({ status, statusText, contentType, retryAfter: response.headers.get('retry-after'), text })
}

/** GET /api/models → {default, models: [...]} */
export function fetchModels({ signal } = {}) {
  return request(apiUrl('/api/models'), { signal, headers: { Accept: 'application/json' } })
}

function abortError() {
  return new DOMException('The upload was cancelled.', 'AbortError')
}

// fetch() can't report upload progress; XMLHttpRequest can.
function postWithProgress(url, body, { signal, onUploadProgress, media }) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError())
    const xhr = new XMLHttpRequest()
    // Settle at once: an XHR aborted before its request went out fires no abort event.
    const abort = () => {
      xhr.abort()
      reject(abortError())
    }
    signal?.addEventListener('abort', abort, { once: true })
    xhr.open('POST', url)
    for (const [name, value] of Object.entries(withApiKey({ Accept: 'application/json, application/problem+json' }))) {
      xhr.setRequestHeader(name, value)
    }
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) onUploadProgress?.(Math.min(1, e.loaded / e.total))
    })
    xhr.upload.addEventListener('load', () => onUploadProgress?.(1))
    xhr.addEventListener('load', () => {
      const answer = {
        status: xhr.status,
        statusText: xhr.statusText,
        contentType: xhr.getResponseHeader('content-type'),
        retryAfter: xhr.getResponseHeader('retry-after'),
        text: xhr.responseText,
      }
      try {
        resolve(parseAnswer(answer, media))
      } catch (err) {
        reject(err)
      }
    })
    xhr.addEventListener('error', () => reject(networkError('network error')))
    xhr.addEventListener('abort', () => reject(abortError()))
    xhr.addEventListener('loadend', () => signal?.removeEventListener('abort', abort))
    xhr.send(body)
  })
}

/**
 * POST /api/predict with the image or clip as multipart field `file`.
 * Options travel both as form fields and as query parameters (the server accepts either).
 * onUploadProgress(fraction) follows the upload; 1 means the server has it all and is working.
 */
export function predict(file, { model, faces = 'on', explain = true, frames, signal, onUploadProgress } = {}) {
  const media = mediaKind(file) || 'image'
  const params = { model, faces, explain: explain ? '1' : undefined, frames: media === 'video' ? frames : undefined }
  const type = fileType(file)
  // A typeless file would reach the server as application/octet-stream; send the type its name implies.
  const upload = type && type !== file.type ? new File([file], file.name, { type }) : file
  const body = new FormData()
  body.append('file', upload, file.name || media)
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') body.append(key, value)
  }
  return postWithProgress(apiUrl('/api/predict', params), body, { signal, onUploadProgress, media })
}

/**
 * Words for a calibrated probability of fake, read against the model's threshold: a model whose threshold is
 * 0.92 calls 0.85 "real", so 0.85 must not be worded "likely fake". The scale is stretched so the threshold sits
 * in the middle (with the usual 0.5 threshold the words are those of the plain probability).
 */
export function describeProbability(p, threshold = 0.5) {
  const t = Math.min(Math.max(threshold, 0.01), 0.99)
  const q = p < t ? p / (2 * t) : 0.5 + (p - t) / (2 * (1 - t))
  if (q < 0.1) return 'very likely real'
  if (q < 0.35) return 'likely real'
  if (q < 0.65) return 'uncertain'
  if (q < 0.9) return 'likely fake'
  return 'very likely fake'
}

// pipeline/constants.py UNCERTAIN_FRACTION (tests/pipeline checks they match): where describeProbability stops
// saying "likely real" (q = 0.35).
const UNCERTAIN_FRACTION = 0.7

export const VERDICT_NAMES = { real: 'Real', uncertain: 'Uncertain', fake: 'Fake' }

/** 'real', 'uncertain' or 'fake' of an answer, face or track (a server older than the verdict sends only `label`). */
export function verdictOf(item) {
  return item.verdict ?? item.label
}

/** The verdict the server would give a probability it sent without one (a face in one sampled frame of a clip). */
export function verdictFor(p, threshold = 0.5) {
  if (p >= threshold) return 'fake'
  return p >= UNCERTAIN_FRACTION * threshold ? 'uncertain' : 'real'
}

export function formatPercent(p) {
  return `${Math.round(p * 100)}%`
}
