import { forwardRef } from 'react'
import { VERDICT_NAMES, verdictOf } from '../api.js'
import ContentCredentials from './ContentCredentials.jsx'
import KindGuess from './KindGuess.jsx'
import ProbabilityBar from './ProbabilityBar.jsx'

function formatLatency(ms) {
  if (typeof ms !== 'number') return null
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}

function describeFaces(result) {
  if (result.media === 'video') {
    const tracks = result.tracks?.length || 0
    const frames = result.video?.frames_sampled ?? result.timeline?.length ?? 0
    const who = tracks === 1 ? '1 face was' : `${tracks} faces were`
    return `${who} followed through ${frames} sampled frames; the clip gets the score of its most-fake face.`
  }
  const faceCount = result.faces?.length || 0
  return faceCount === 1
    ? '1 face was found and is outlined on the image with its score.'
    : `${faceCount} faces were found and are outlined on the image, each with its own score.`
}

const BADGES = { real: '✓', uncertain: '?', fake: '!' }

/**
 * Real/Uncertain/Fake verdict (uncertain ones asking for a person's look; the server's note when only part of a clip
 * could be decoded), probability bar and words, the kind of fake (when the model guesses one), model used, latency,
 * face summary, heatmap toggle, credentials.
 */
const VerdictCard = forwardRef(function VerdictCard({ result, showHeatmap, onToggleHeatmap }, headingRef) {
  const verdict = verdictOf(result)
  const latency = formatLatency(result.latency_ms)
  return (
    <section className={`verdict verdict--${verdict}`} aria-labelledby="verdict-heading">
      <h2 id="verdict-heading" className="verdict__heading" tabIndex={-1} ref={headingRef}>
        <span className="verdict__badge" aria-hidden="true">{BADGES[verdict]}</span>
        Verdict: {VERDICT_NAMES[verdict]}
      </h2>
      {verdict === 'uncertain' && (
        <p className="verdict__review">
          The probability of fake is below the model's threshold, but high enough that a person should look at it.
        </p>
      )}
      {result.decoded?.partial && <p className="verdict__partial" role="note">{result.decoded.note}</p>}
      <ProbabilityBar probability={result.probability_fake} threshold={result.threshold ?? 0.5} />
      <KindGuess kind={result.kind} probabilities={result.kind_probabilities} />
      {result.face_detected ? (
        <p className="verdict__faces">{describeFaces(result)}</p>
      ) : (
        <p className="verdict__faces verdict__faces--none">
          {result.media === 'video'
            ? 'No face found in the sampled frames — whole frames were analysed.'
            : 'No face found — the whole image was analysed.'}
        </p>
      )}
      {result.explanation && (
        <label className="switch">
          <input type="checkbox" role="switch" checked={showHeatmap} onChange={(e) => onToggleHeatmap(e.target.checked)} />
          <span className="switch__track" aria-hidden="true" />
          Show heatmap
        </label>
      )}
      <dl className="verdict__meta">
        <div>
          <dt>Model</dt>
          <dd>
            {result.model?.name}
            {result.model?.version && <span className="muted"> ({result.model.version})</span>}
          </dd>
        </div>
        {latency && (
          <div>
            <dt>Time</dt>
            <dd>{latency}</dd>
          </div>
        )}
        <div>
          <dt>Threshold</dt>
          <dd>{Math.round((result.threshold ?? 0.5) * 100)}%</dd>
        </div>
      </dl>
      <ContentCredentials provenance={result.provenance} />
    </section>
  )
})

export default VerdictCard
