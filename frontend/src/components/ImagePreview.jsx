import { useState } from 'react'
import { describeProbability, formatPercent } from '../api.js'

function boxStyle([x, y, w, h], width, height) {
  // Boxes are in original image pixels; percentages scale with the displayed size.
  return {
    left: `${(x / width) * 100}%`,
    top: `${(y / height) * 100}%`,
    width: `${(w / width) * 100}%`,
    height: `${(h / height) * 100}%`,
  }
}

/**
 * The chosen image, with each detected face outlined and its own score, and
 * optionally the Grad-CAM heatmap laid over the deciding face.
 */
export default function ImagePreview({ src, fileName, result, showHeatmap = false, onImageSize, imageSize }) {
  const width = result?.image?.width || imageSize?.width
  const height = result?.image?.height || imageSize?.height
  const faces = result?.faces || []
  const explanation = result?.explanation
  const [brokenSrc, setBrokenSrc] = useState(null)
  const broken = brokenSrc === src
  const canDraw = Boolean(width && height) && !broken

  if (broken) {
    return (
      <figure className="preview">
        <div className="preview__broken">
          <p>The browser can't show a preview of this file — it may not be a valid image.</p>
        </div>
        {fileName && <figcaption className="preview__caption">{fileName}</figcaption>}
      </figure>
    )
  }

  return (
    <figure className="preview">
      <div className="preview__frame">
        <img
          className="preview__image"
          src={src}
          alt={fileName ? `Preview of ${fileName}` : 'Preview of the chosen image'}
          onError={() => setBrokenSrc(src)}
          onLoad={(e) => onImageSize?.({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
        />
        {canDraw && showHeatmap && explanation?.heatmap_png && (
          <img
            className="preview__heatmap"
            src={`data:image/png;base64,${explanation.heatmap_png}`}
            alt="Grad-CAM heatmap: warmer colours mark the areas that most influenced the verdict"
            style={boxStyle(explanation.box, width, height)}
          />
        )}
        {canDraw && faces.length > 0 && (
          <ul className="preview__faces" aria-label="Detected faces">
            {faces.map((face, i) => {
              const label = face.label === 'fake' ? 'fake' : 'real'
              return (
                <li
                  key={`${face.box.join(',')}-${i}`}
                  className={`facebox facebox--${label}${face.deciding ? ' facebox--deciding' : ''}${face.box[1] / height < 0.08 ? ' facebox--label-below' : ''}`}
                  style={boxStyle(face.box, width, height)}
                  aria-label={`Face ${i + 1}: ${formatPercent(face.probability_fake)} probability of fake, ${describeProbability(face.probability_fake)}${face.deciding ? ' (deciding face)' : ''}`}
                >
                  <span className="facebox__score" aria-hidden="true">
                    {i + 1}: {formatPercent(face.probability_fake)} fake
                  </span>
                </li>
              )
            })}
          </ul>
        )}
      </div>
      {fileName && <figcaption className="preview__caption">{fileName}</figcaption>}
    </figure>
  )
}
