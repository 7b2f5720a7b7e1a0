import { verdictFor } from './api.js'

// Reading a clip answer: which sampled frame is on screen, and which faces it holds.

// Sampled frames are at least one video frame (≥ 1/60 s) apart; anything closer is the same frame.
const SAME_FRAME_S = 0.005

export function sameFrame(a, b) {
  return a != null && b != null && Math.abs(a - b) < SAME_FRAME_S
}

/** The time of the sampled frame nearest to `seconds`, or null when nothing was sampled. */
export function nearestSampleTime(result, seconds) {
  let best = null
  for (const { t } of result?.timeline || []) {
    if (best === null || Math.abs(t - seconds) < Math.abs(best - seconds)) best = t
  }
  return best
}

/** The frame where a track looks most fake, or null for a track without frames. */
export function mostFakeFrame(track) {
  return (track.frames || []).reduce((best, frame) => (!best || frame.probability_fake > best.probability_fake ? frame : best), null)
}

/** The tracks' faces in the sampled frame at `t`, shaped like an image answer's faces. */
export function facesAt(result, t) {
  const tracks = result?.tracks || []
  const threshold = result?.threshold ?? 0.5
  const deciding = tracks.reduce((best, track) => (!best || track.probability_fake > best.probability_fake ? track : best), null)
  return tracks.flatMap((track) => {
    const frame = (track.frames || []).find((f) => sameFrame(f.t, t))
    if (!frame) return []
    return [
      {
        number: track.id,
        box: frame.box,
        probability_fake: frame.probability_fake,
        verdict: verdictFor(frame.probability_fake, threshold),
        deciding: track === deciding,
      },
    ]
  })
}
