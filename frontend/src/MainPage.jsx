import { useCallback, useEffect, useRef, useState } from 'react'
import { ApiError, fetchModels, predict, validateFile } from './api.js'
import ApiKeyField from './components/ApiKeyField.jsx'
import DropZone from './components/DropZone.jsx'
import ErrorMessage from './components/ErrorMessage.jsx'
import ImagePreview from './components/ImagePreview.jsx'
import ModelSelect from './components/ModelSelect.jsx'
import VerdictCard from './components/VerdictCard.jsx'

// idle → selected → analyzing → result | error
export default function MainPage() {
  const [phase, setPhase] = useState('idle')
  const [file, setFile] = useState(null)
  const [previewUrl, setPreviewUrl] = useState(null)
  const [imageSize, setImageSize] = useState(null)
  const [result, setResult] = useState(null)
  const [error, setError] = useState(null)
  const [showHeatmap, setShowHeatmap] = useState(false)
  const [models, setModels] = useState([])
  const [modelsLoading, setModelsLoading] = useState(true)
  const [model, setModel] = useState('')

  const dropRef = useRef(null)
  const analyzeRef = useRef(null)
  const verdictRef = useRef(null)
  const errorRef = useRef(null)
  const requestRef = useRef(null)

  // Fill the model selector once.
  useEffect(() => {
    const controller = new AbortController()
    fetchModels({ signal: controller.signal })
      .then((data) => {
        const list = Array.isArray(data?.models) ? data.models : []
        setModels(list)
        setModel(data?.default || list[0]?.name || '')
      })
      .catch(() => {
        // Without the list the server's default model is used; a failed analysis reports problems.
      })
      .finally(() => {
        if (!controller.signal.aborted) setModelsLoading(false)
      })
    return () => controller.abort()
  }, [])

  // Release the object URL of the previous preview.
  useEffect(() => {
    if (!previewUrl) return undefined
    return () => URL.revokeObjectURL(previewUrl)
  }, [previewUrl])

  // Move focus to whatever just appeared, so keyboard and screen-reader users follow along.
  useEffect(() => {
    if (phase === 'result') verdictRef.current?.focus()
    else if (phase === 'selected') analyzeRef.current?.focus()
    else if (phase === 'error') errorRef.current?.focus()
  }, [phase])

  const chooseFile = useCallback((picked) => {
    requestRef.current?.abort()
    const problem = validateFile(picked)
    setResult(null)
    setShowHeatmap(false)
    setImageSize(null)
    if (problem) {
      setFile(null)
      setPreviewUrl(null)
      setError({ message: problem })
      setPhase('error')
      return
    }
    setError(null)
    setFile(picked)
    setPreviewUrl(URL.createObjectURL(picked))
    setPhase('selected')
  }, [])

  // Ctrl+V / Cmd+V anywhere on the page pastes an image.
  useEffect(() => {
    function onPaste(event) {
      if (phase === 'analyzing') return
      const items = Array.from(event.clipboardData?.items || [])
      const fromItems = items.filter((it) => it.kind === 'file').map((it) => it.getAsFile())
      const files = fromItems.length ? fromItems : Array.from(event.clipboardData?.files || [])
      const picked = files.find((f) => f && f.type.startsWith('image/')) || files[0]
      if (picked) {
        event.preventDefault()
        chooseFile(picked)
      }
    }
    document.addEventListener('paste', onPaste)
    return () => document.removeEventListener('paste', onPaste)
  }, [chooseFile, phase])

  async function analyze() {
    if (!file) return
    const controller = new AbortController()
    requestRef.current = controller
    setPhase('analyzing')
    setError(null)
    setResult(null)
    setShowHeatmap(false)
    try {
      const data = await predict(file, { model: model || undefined, explain: true, signal: controller.signal })
      if (controller.signal.aborted) return
      setResult(data)
      setPhase('result')
    } catch (err) {
      if (controller.signal.aborted || err?.name === 'AbortError') return
      const apiError = err instanceof ApiError ? err : new ApiError('Something went wrong. Please try again.')
      setError({
        message: apiError.message,
        detail: apiError.detail && apiError.kind === 'http' ? apiError.detail : '',
        // Sending the same file again only helps when the server, the network or the model choice was the problem.
        retryable: !apiError.status || apiError.status >= 500 || apiError.status === 404 || apiError.status === 405,
      })
      setPhase('error')
    } finally {
      if (requestRef.current === controller) requestRef.current = null
    }
  }

  function reset() {
    requestRef.current?.abort()
    setFile(null)
    setPreviewUrl(null)
    setImageSize(null)
    setResult(null)
    setError(null)
    setShowHeatmap(false)
    setPhase('idle')
    // The drop zone is rendered again on the next paint; focus it then.
    requestAnimationFrame(() => dropRef.current?.focus())
  }

  const analyzing = phase === 'analyzing'
  const showDropZone = !file

  return (
    <div className="page">
      <header className="page__header">
        <h1>Deepfake Detector</h1>
        <p className="page__lead">Upload a photo of a face to check whether it is real or generated.</p>
      </header>

      <main className="page__main">
        <section className="panel" aria-label="Image to analyze">
          <ApiKeyField />
          <ModelSelect
            models={models}
            value={model}
            onChange={setModel}
            disabled={analyzing}
            loading={modelsLoading}
          />

          {showDropZone ? (
            <DropZone ref={dropRef} onFile={chooseFile} disabled={analyzing} />
          ) : (
            <ImagePreview
              src={previewUrl}
              fileName={file.name}
              result={result}
              showHeatmap={showHeatmap}
              imageSize={imageSize}
              onImageSize={setImageSize}
            />
          )}

          <div className="status" role="status" aria-live="polite">
            {analyzing && (
              <span className="status__busy">
                <span className="spinner" aria-hidden="true" /> Analyzing…
              </span>
            )}
            {phase === 'result' && result && `Analysis complete: ${result.label === 'fake' ? 'Fake' : 'Real'}.`}
          </div>

          <ErrorMessage ref={errorRef} message={error?.message} detail={error?.detail} />

          <div className="actions">
            {file && (phase === 'selected' || phase === 'analyzing' || (phase === 'error' && error?.retryable)) && (
              <button
                type="button"
                className="button button--primary"
                ref={analyzeRef}
                onClick={analyze}
                disabled={analyzing}
                aria-busy={analyzing || undefined}
              >
                {analyzing ? 'Analyzing…' : phase === 'error' ? 'Try again' : 'Analyze image'}
              </button>
            )}
            {(file || phase === 'error') && (
              <button type="button" className="button" onClick={reset}>
                Analyze another image
              </button>
            )}
          </div>
        </section>

        {phase === 'result' && result && (
          <VerdictCard ref={verdictRef} result={result} showHeatmap={showHeatmap} onToggleHeatmap={setShowHeatmap} />
        )}
      </main>

      <footer className="page__footer">
        <p>
          Scores are estimates from a machine-learning model and can be wrong. Images are analysed in memory and not
          stored.
        </p>
      </footer>
    </div>
  )
}
