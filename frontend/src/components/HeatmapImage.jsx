import boxStyle from '../boxStyle.js'

/** The Grad-CAM map laid over the face it explains (inside the preview frame). */
export default function HeatmapImage({ result, width, height }) {
  const explanation = result.explanation
  if (!explanation?.heatmap_png || !explanation.box) return null
  const target = (explanation.target || result.label) === 'fake' ? 'fake' : 'real'
  return (
    <img
      className="preview__heatmap"
      src={`data:image/png;base64,${explanation.heatmap_png}`}
      alt={`Heatmap: regions that pushed toward ${target}`}
      style={boxStyle(explanation.box, width, height)}
    />
  )
}
