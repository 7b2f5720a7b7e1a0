import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, mediaKind, predict, validateFile } from '../api.js'

// An entry's status: invalid (refused before sending) | ready | queued | uploading | analyzing | done | error
const BUSY = ['queued', 'uploading', 'analyzing']

export function isBusy(entry) {
  return BUSY.includes(entry.status)
}

/** Worth sending (again): never sent, or failed for a reason that may pass (server, network, model choice). */
export function isRunnable(entry) {
  return entry.status === 'ready' || (entry.status === 'error' && entry.error?.retryable)
}

let lastId = 0

function newEntry(file) {
  const problem = validateFile(file)
  return {
    id: ++lastId,
    file,
    media: mediaKind(file),
    // Made now rather than in a render, so the preview shows at once; released when the entries are replaced.
    url: problem ? null : URL.createObjectURL(file),
    status: problem ? 'invalid' : 'ready',
    progress: 0,
    result: null,
    error: problem ? { message: problem } : null,
  }
}

function describeFailure(err) {
  const apiError = err instanceof ApiError ? err : new ApiError('Something went wrong. Please try again.')
  const { status } = apiError
  return {
    message: apiError.message,
    detail: apiError.detail && apiError.kind === 'http' ? apiError.detail : '',
    retryable: !status || status >= 500 || status === 404 || status === 405,
  }
}

/** The chosen files and their analyses, sent one after another. */
export default function useAnalysisQueue() {
  const [entries, setEntries] = useState([])
  const controllerRef = useRef(null)

  const patch = useCallback((id, changes) => {
    setEntries((list) => list.map((entry) => (entry.id === id ? { ...entry, ...changes } : entry)))
  }, [])

  const urlsRef = useRef([])

  const stop = useCallback(() => {
    controllerRef.current?.abort()
    controllerRef.current = null
    urlsRef.current.forEach((url) => URL.revokeObjectURL(url))
    urlsRef.current = []
  }, [])

  useEffect(() => stop, [stop])

  const load = useCallback(
    (files) => {
      stop()
      const list = files.map(newEntry)
      urlsRef.current = list.map((entry) => entry.url).filter(Boolean)
      setEntries(list)
    },
    [stop],
  )

  const clear = useCallback(() => load([]), [load])

  const analyseOne = useCallback(
    async (entry, options, signal) => {
      patch(entry.id, { status: 'uploading', progress: 0, error: null, result: null })
      const onUploadProgress = (fraction) =>
        patch(entry.id, fraction >= 1 ? { status: 'analyzing', progress: 1 } : { progress: fraction })
      try {
        const result = await predict(entry.file, { ...options, signal, onUploadProgress })
        if (!signal.aborted) patch(entry.id, { status: 'done', result })
      } catch (err) {
        if (!signal.aborted && err?.name !== 'AbortError') patch(entry.id, { status: 'error', error: describeFailure(err) })
      }
    },
    [patch],
  )

  const run = useCallback(
    async (toRun, options) => {
      controllerRef.current?.abort()
      const controller = new AbortController()
      controllerRef.current = controller
      const ids = new Set(toRun.map((entry) => entry.id))
      setEntries((list) => list.map((entry) => (ids.has(entry.id) ? { ...entry, status: 'queued', error: null } : entry)))
      for (const entry of toRun) {
        if (controller.signal.aborted) return
        await analyseOne(entry, options, controller.signal)
      }
      if (controllerRef.current === controller) controllerRef.current = null
    },
    [analyseOne],
  )

  const reject = useCallback((id, message) => patch(id, { status: 'invalid', error: { message } }), [patch])

  return { entries, load, clear, run, reject }
}
