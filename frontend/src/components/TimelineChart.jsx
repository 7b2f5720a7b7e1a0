import { formatClock, formatPercent, verdictFor } from '../api.js'
import { sameFrame } from '../timeline.js'

const WIDTH = 600
const HEIGHT = 170
const PAD = { left: 40, right: 12, top: 10, bottom: 26 }
const TICK_STEPS_S = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]

function scales(duration) {
  const plotW = WIDTH - PAD.left - PAD.right
  const plotH = HEIGHT - PAD.top - PAD.bottom
  return {
    x: (t) => PAD.left + (Math.min(Math.max(t, 0), duration) / duration) * plotW,
    y: (p) => PAD.top + (1 - p) * plotH,
  }
}

function timeTicks(duration) {
  const step = TICK_STEPS_S.find((s) => duration / s <= 6) ?? TICK_STEPS_S.at(-1)
  return Array.from({ length: Math.floor(duration / step) + 1 }, (_, i) => i * step)
}

function tickLabel(seconds) {
  return formatClock(seconds).replace(/\.0$/, '')
}

function Axes({ x, y, duration, threshold }) {
  return (
    <g className="timeline__axes" aria-hidden="true">
      {[0, 0.5, 1].map((p) => (
        <g key={p}>
          <line className="timeline__grid" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(p)} y2={y(p)} />
          <text className="timeline__label" x={PAD.left - 6} y={y(p) + 4} textAnchor="end">
            {formatPercent(p)}
          </text>
        </g>
      ))}
      {timeTicks(duration).map((t) => (
        <text key={t} className="timeline__label" x={x(t)} y={HEIGHT - 8} textAnchor="middle">
          {tickLabel(t)}
        </text>
      ))}
      <line className="timeline__threshold" x1={PAD.left} x2={WIDTH - PAD.right} y1={y(threshold)} y2={y(threshold)} />
    </g>
  )
}

function Point({ point, x, y, threshold, current, onSeek }) {
  const name = `${formatClock(point.t)} — ${formatPercent(point.probability_fake)} fake`
  const onKeyDown = (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return
    e.preventDefault()
    onSeek(point.t)
  }
  return (
    <circle
      className={`timeline__point timeline__point--${verdictFor(point.probability_fake, threshold)}${current ? ' timeline__point--current' : ''}`}
      cx={x(point.t)}
      cy={y(point.probability_fake)}
      r={current ? 7 : 5.5}
      role="button"
      tabIndex={0}
      aria-label={name}
      aria-current={current || undefined}
      onClick={() => onSeek(point.t)}
      onKeyDown={onKeyDown}
    >
      <title>{name}</title>
    </circle>
  )
}

/** P(fake) of every sampled frame over the clip's time, with the threshold; each point seeks the video there. */
export default function TimelineChart({ timeline, duration, threshold = 0.5, currentTime = 0, currentSample = null, onSeek }) {
  if (!timeline?.length) return null
  const end = Math.max(duration || 0, ...timeline.map((p) => p.t), 0.1)
  const { x, y } = scales(end)
  const line = timeline.map((p) => `${x(p.t)},${y(p.probability_fake)}`).join(' ')
  return (
    <figure className="timeline">
      <figcaption id="timeline-caption" className="timeline__caption">
        Probability of fake over time — select a point to see that frame
      </figcaption>
      <svg className="timeline__chart" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="group" aria-labelledby="timeline-caption">
        <Axes x={x} y={y} duration={end} threshold={threshold} />
        <line className="timeline__playhead" x1={x(currentTime)} x2={x(currentTime)} y1={PAD.top} y2={HEIGHT - PAD.bottom} aria-hidden="true" />
        <polyline className="timeline__line" points={line} aria-hidden="true" />
        {timeline.map((point) => (
          <Point
            key={point.t}
            point={point}
            x={x}
            y={y}
            threshold={threshold}
            current={sameFrame(point.t, currentSample)}
            onSeek={onSeek}
          />
        ))}
      </svg>
      <p className="timeline__legend" aria-hidden="true">
        <span className="timeline__legend-threshold" /> threshold {formatPercent(threshold)}
      </p>
    </figure>
  )
}
