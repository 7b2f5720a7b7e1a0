import { useState } from 'react'
import FaceBoxes from './FaceBoxes.jsx'
import HeatmapCaption from './HeatmapCaption.jsx'
import HeatmapImage from './HeatmapImage.jsx'

/**
 * The chosen image, with each detected face outlined and its own score, and
 * optionally the Grad-CAM heatmap laid over the deciding face.
 */
export default function ImagePreview({ src, fileName, result, showHeatmap = false }) {
  const [loaded, setLoaded] = useState(null)
  const [brokenSrc, setBrokenSrc] = useState(null)
  const natural = loaded?.src === src ? loaded : null
  const width = result?.image?.width || natural?.width
  const height = result?.image?.height || natural?.height
  const canDraw = Boolean(width && height && result)

  if (brokenSrc === src) {
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
          onLoad={(e) => setLoaded({ src, width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
        />
        {canDraw && showHeatmap && <HeatmapImage result={result} width={width} height={height} />}
        {canDraw && <FaceBoxes faces={result.faces || []} width={width} height={height} threshold={result.threshold} />}
      </div>
      {result && showHeatmap && <HeatmapCaption result={result} />}
      {fileName && <figcaption className="preview__caption">{fileName}</figcaption>}
    </figure>
  )
}
