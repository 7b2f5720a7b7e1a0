import { VERDICT_NAMES, formatPercent, verdictOf } from '../api.js'

function activeEntry(entries) {
  return entries.find((e) => e.status === 'uploading' || e.status === 'analyzing')
}

function busyText(entries, active) {
  const where = entries.length > 1 ? ` file ${entries.indexOf(active) + 1} of ${entries.length} (${active.file.name})` : ''
  if (active.status === 'uploading') return `Uploading${where}…`
  return `Analyzing${where}…${active.media === 'video' ? ' Long clips take a while.' : ''}`
}

function doneText(entries) {
  if (!entries.length) return ''
  if (entries.length === 1) {
    const { result } = entries[0]
    return result ? `Analysis complete: ${VERDICT_NAMES[verdictOf(result)]}.` : ''
  }
  if (entries.some((e) => e.status === 'ready' || e.status === 'queued')) return ''
  const analysed = entries.filter((e) => e.status === 'done').length
  return `Finished: ${analysed} of ${entries.length} files analysed.`
}

/** What the page is doing, announced politely; while a file uploads, how much of it has gone. */
export default function AnalysisStatus({ entries }) {
  const active = activeEntry(entries)
  const uploading = active?.status === 'uploading'
  return (
    <>
      <div className="status" role="status" aria-live="polite">
        {active ? (
          <span className="status__busy">
            <span className="spinner" aria-hidden="true" /> {busyText(entries, active)}
          </span>
        ) : (
          doneText(entries) || null
        )}
      </div>
      {uploading && (
        <div className="upload">
          <progress
            className="upload__bar"
            max={100}
            value={Math.round(active.progress * 100)}
            aria-label={`Upload of ${active.file.name}`}
          />
          <span className="upload__percent" aria-hidden="true">
            {formatPercent(active.progress)}
          </span>
        </div>
      )}
    </>
  )
}
