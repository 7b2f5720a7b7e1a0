import { describeProbability, formatPercent, verdictOf } from '../api.js'
import boxStyle from '../boxStyle.js'

/** Each face outlined over the image or video frame, with its own score. `number` names a face (a track in a clip). */
export default function FaceBoxes({ faces, width, height, threshold = 0.5, label = 'Detected faces' }) {
  if (!faces.length) return null
  return (
    <ul className="preview__faces" aria-label={label}>
      {faces.map((face, i) => {
        const number = face.number ?? i + 1
        const tone = verdictOf(face)
        // The score sits above the box; below it when the box touches the top; inside when it fills the frame.
        const noRoomAbove = face.box[1] / height < 0.08
        const noRoomBelow = (face.box[1] + face.box[3]) / height > 0.92
        const placement = !noRoomAbove ? '' : noRoomBelow ? ' facebox--label-inside' : ' facebox--label-below'
        return (
          <li
            key={`${number}-${face.box.join(',')}`}
            className={`facebox facebox--${tone}${face.deciding ? ' facebox--deciding' : ''}${placement}`}
            style={boxStyle(face.box, width, height)}
            aria-label={`Face ${number}: ${formatPercent(face.probability_fake)} probability of fake, ${describeProbability(face.probability_fake, threshold)}${face.deciding ? ' (deciding face)' : ''}`}
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
