import { forwardRef } from 'react'
import { VERDICT_NAMES, formatPercent, verdictOf } from '../api.js'
import verdictsCsv from '../verdictsCsv.js'

const MEDIA_NAMES = { image: 'Image', video: 'Clip' }

function outcome(entry) {
  switch (entry.status) {
    case 'ready':
      return 'Not analysed yet'
    case 'queued':
      return 'Waiting'
    case 'uploading':
      return `Uploading ${formatPercent(entry.progress)}`
    case 'analyzing':
      return 'Analyzing…'
    case 'done':
      return `${VERDICT_NAMES[verdictOf(entry.result)]} — ${formatPercent(entry.result.probability_fake)} fake`
    default:
      return entry.error?.message || 'Failed'
  }
}

function download(entries) {
  const url = URL.createObjectURL(new Blob([verdictsCsv(entries)], { type: 'text/csv;charset=utf-8' }))
  const link = document.createElement('a')
  link.href = url
  link.download = 'deepfake-verdicts.csv'
  document.body.append(link)
  link.click()
  link.remove()
  // Revoke later: some browsers start the download only after the click handler has returned.
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** Every chosen file with its verdict or error; selecting one shows its full result. */
const ResultsList = forwardRef(function ResultsList({ entries, selectedId, onSelect, busy }, headingRef) {
  const finished = entries.some((entry) => entry.status === 'done' || entry.status === 'error')
  return (
    <section className="results" aria-labelledby="results-heading">
      <h2 id="results-heading" className="results__heading" tabIndex={-1} ref={headingRef}>
        Results ({entries.length} files)
      </h2>
      <ol className="results__list">
        {entries.map((entry) => {
          const tone = entry.result ? verdictOf(entry.result) : entry.error ? 'error' : 'pending'
          return (
            <li key={entry.id}>
              <button
                type="button"
                className={`card-button card-button--${tone} result`}
                aria-current={entry.id === selectedId || undefined}
                onClick={() => onSelect(entry.id)}
              >
                <span className="result__name">{entry.file.name}</span>
                <span className="visually-hidden">, </span>
                <span className="result__detail">
                  {MEDIA_NAMES[entry.media] || 'Unsupported file'} · {outcome(entry)}
                </span>
              </button>
            </li>
          )
        })}
      </ol>
      <button type="button" className="button" onClick={() => download(entries)} disabled={busy || !finished}>
        Download CSV
      </button>
    </section>
  )
})

export default ResultsList
