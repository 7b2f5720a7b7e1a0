import { describeProbability, formatPercent } from '../api.js'
import boxStyle from '../boxStyle.js'

/** Each face outlined over the image or video frame, with its own score. `number` names a face (a track in a clip). */
export default function FaceBoxes({ faces, width, height, label = 'Detected faces' }) {
  if (!faces.length) return null
  return (
    <ul className="preview__faces" aria-label={label}>
      {faces.map((face, i) => {
        const number = face.number ?? i + 1
        const tone = face.label === 'fake' ? 'fake' : 'real'
        const below = face.box[1] / height < 0.08
        return (
          <li
            key={`${number}-${face.box.join(',')}`}
            className={`facebox facebox--${tone}${face.deciding ? ' facebox--deciding' : ''}${below ? ' facebox--label-below' : ''}`}
            style={boxStyle(face.box, width, height)}
            aria-label={`Face ${number}: ${formatPercent(face.probability_fake)} probability of fake, ${describeProbability(face.probability_fake)}${face.deciding ? ' (deciding face)' : ''}`}
          >
            <span className="facebox__score" aria-hidden="true">
              {number}: {formatPercent(face.probability_fake)} fake
            </span>
          </li>
        )
      })}
    </ul>
  )
}
