import { describeProbability, formatPercent } from '../api.js'

/** Calibrated probability of fake as an accessible meter, with the threshold marked. */
export default function ProbabilityBar({ probability, threshold = 0.5 }) {
  const pct = Math.max(0, Math.min(100, probability * 100))
  const words = describeProbability(probability, threshold)
  const tone = words.endsWith('real') ? 'real' : words.endsWith('fake') ? 'fake' : 'uncertain'
  return (
    <div className="probability">
      <div className="probability__labels" aria-hidden="true">
        <span>Real</span>
        <span>Fake</span>
      </div>
      <div
        className="probability__track"
        role="meter"
        aria-label="Probability of fake"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
        aria-valuetext={`${formatPercent(probability)} probability of fake: ${words}`}
      >
        <div className={`probability__fill probability__fill--${tone}`} style={{ width: `${pct}%` }} />
        <div className="probability__threshold" style={{ left: `${threshold * 100}%` }} title="Decision threshold" />
      </div>
      <p className="probability__text">
        <strong>{formatPercent(probability)}</strong> probability of fake — {words}
      </p>
    </div>
  )
}
