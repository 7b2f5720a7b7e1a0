import { useCallback, useEffect, useRef, useState } from 'react'
import { validateDuration } from './api.js'
import AnalysisStatus from './components/AnalysisStatus.jsx'
import ApiKeyField from './components/ApiKeyField.jsx'
import DropZone from './components/DropZone.jsx'
import ErrorMessage from './components/ErrorMessage.jsx'
import ImagePreview from './components/ImagePreview.jsx'
import ModelSelect from './components/ModelSelect.jsx'
import ResultsList from './components/ResultsList.jsx'
import VerdictCard from './components/VerdictCard.jsx'
import VideoView from './components/VideoView.jsx'
import useAnalysisQueue, { isBusy, isRunnable } from './hooks/useAnalysisQueue.js'
import useModels from './hooks/useModels.js'
import usePastedFiles from './hooks/usePastedFiles.js'

// One file: idle → selected → analyzing → result | error. Several: idle → selected → analyzing → finished.
function pagePhase(entries) {
  if (!entries.length) return 'idle'
  if (entries.some(isBusy)) return 'analyzing'
  if (entries.length > 1) return entries.some((e) => e.status === 'ready') ? 'selected' : 'finished'
  return { ready: 'selected', done: 'result' }[entries[0].status] || 'error'
}

function noun(entries) {
  if (entries.length > 1) return 'files'
  return entries[0]?.media === 'video' ? 'clip' : 'image'
}

function analyzeLabel(entries, runnable) {
  if (entries.some(isBusy)) return 'Analyzing…'
  if (runnable.some((e) => e.status === 'error')) return 'Try again'
  return entries.length > 1 ? `Analyze ${runnable.length} files` : `Analyze ${noun(entries)}`
}

export default function MainPage() {
  const { models, loading: modelsLoading, model, setModel } = useModels()
  const { entries, load, clear, run, reject } = useAnalysisQueue()
  const [selectedId, setSelectedId] = useState(null)
  const [showHeatmap, setShowHeatmap] = useState(false)

  const current = entries.find((e) => e.id === selectedId) || entries[0] || null
  const showable = current && current.status !== 'invalid' ? current : null
  const phase = pagePhase(entries)
  const analyzing = phase === 'analyzing'
  const batch = entries.length > 1
  const runnable = entries.filter(isRunnable)

  const dropRef = useRef(null)
  const analyzeRef = useRef(null)
  const verdictRef = useRef(null)
  const errorRef = useRef(null)
  const resultsRef = useRef(null)

  // Move focus to whatever just appeared, so keyboard and screen-reader users follow along.
  useEffect(() => {
    if (phase === 'result') verdictRef.current?.focus()
    else if (phase === 'selected') analyzeRef.current?.focus()
    else if (phase === 'error') errorRef.current?.focus()
    else if (phase === 'finished') resultsRef.current?.focus()
  }, [phase])

  const chooseFiles = useCallback(
    (files) => {
      load(files)
      setSelectedId(null)
      setShowHeatmap(false)
    },
    [load],
  )
  usePastedFiles(chooseFiles, !analyzing)

  function analyze() {
    setShowHeatmap(false)
    run(runnable, { model: model || undefined, explain: true })
  }

  function select(id) {
    setSelectedId(id)
    setShowHeatmap(false)
  }

  function checkDuration(seconds) {
    const problem = validateDuration(seconds)
    if (problem && current?.status === 'ready') reject(current.id, problem)
  }

  function reset() {
    clear()
    setSelectedId(null)
    setShowHeatmap(false)
    // The drop zone is rendered again on the next paint; focus it then.
    requestAnimationFrame(() => dropRef.current?.focus())
  }

  const showDropZone = !entries.length || entries.every((e) => e.status === 'invalid')
  const result = current?.result
  const media = result?.media || current?.media

  return (
    <div className="page">
      <header className="page__header">
        <h1>Deepfake Detector</h1>
        <p className="page__lead">Upload a photo or a video clip of a face to check whether it is real or generated.</p>
      </header>

      <main className="page__main">
        <section className="panel" aria-label="Images and clips to analyze">
          <ApiKeyField />
          <ModelSelect models={models} value={model} onChange={setModel} disabled={analyzing} loading={modelsLoading} />

          {showDropZone && <DropZone ref={dropRef} onFiles={chooseFiles} disabled={analyzing} />}
          {showable && media === 'video' && (
            <VideoView
              key={showable.id}
              src={showable.url}
              fileName={showable.file.name}
              result={result}
              showHeatmap={showHeatmap}
              onDuration={checkDuration}
            />
          )}
          {showable && media !== 'video' && (
            <ImagePreview key={showable.id} src={showable.url} fileName={showable.file.name} result={result} showHeatmap={showHeatmap} />
          )}

          <AnalysisStatus entries={entries} />

          <ErrorMessage ref={errorRef} message={current?.error?.message} detail={current?.error?.detail} />

          <div className="actions">
            {(analyzing || runnable.length > 0) && (
              <button
                type="button"
                className="button button--primary"
                ref={analyzeRef}
                onClick={analyze}
                disabled={analyzing}
                aria-busy={analyzing || undefined}
              >
                {analyzeLabel(entries, runnable)}
              </button>
            )}
            {entries.length > 0 && (
              <button type="button" className="button" onClick={reset}>
                {batch ? 'Analyze other files' : `Analyze another ${noun(entries)}`}
              </button>
            )}
          </div>
        </section>

        {(batch || result) && (
          <div className="page__side">
            {batch && (
              <ResultsList ref={resultsRef} entries={entries} selectedId={current?.id} onSelect={select} busy={analyzing} />
            )}
            {result && (
              <VerdictCard ref={verdictRef} result={result} showHeatmap={showHeatmap} onToggleHeatmap={setShowHeatmap} />
            )}
          </div>
        )}
      </main>

      <footer className="page__footer">
        <p>
          Scores are estimates from a machine-learning model and can be wrong. Images and clips are analysed in memory and not
          stored.
        </p>
      </footer>
    </div>
  )
}
