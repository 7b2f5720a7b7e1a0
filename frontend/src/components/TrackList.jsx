import { describeProbability, formatClock, formatPercent, verdictOf } from '../api.js'
import { mostFakeFrame } from '../timeline.js'

/** One thumbnail per face followed through the clip, with its score; each jumps to that face's most-fake frame. */
export default function TrackList({ tracks, threshold = 0.5, onSeek }) {
  if (!tracks?.length) return null
  return (
    <section className="tracks" aria-labelledby="tracks-heading">
      <h3 id="tracks-heading" className="tracks__heading">
        Faces in the clip
      </h3>
      <ul className="tracks__list">
        {tracks.map((track) => {
          const peak = mostFakeFrame(track)
          const tone = verdictOf(track)
          return (
            <li key={track.id}>
              <button type="button" className={`card-button card-button--${tone} track`} onClick={() => peak && onSeek(peak.t)}>
                {track.thumbnail_jpeg ? (
                  <img className="track__thumb" src={`data:image/jpeg;base64,${track.thumbnail_jpeg}`} alt={`Face ${track.id}`} />
                ) : (
                  <span className="visually-hidden">Face {track.id}</span>
                )}{' '}
                {/* The thumbnail's alt text already names the face for screen readers. */}
                <span className="track__name" aria-hidden="true">
                  Face {track.id}
                </span>
                <span className="track__score">
                  {formatPercent(track.probability_fake)} fake, {describeProbability(track.probability_fake, threshold)}
                </span>
                {peak && <span className="visually-hidden">: show its most-fake frame at {formatClock(peak.t)}</span>}
              </button>
            </li>
          )
        })}
      </ul>
    </section>
  )
}
