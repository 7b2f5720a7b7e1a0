/** What the heatmap shows, in words; when no region pushed toward the verdict, the server's note instead of a map. */
export default function HeatmapCaption({ result, where = '' }) {
  const explanation = result.explanation
  if (!explanation) return null
  if (!explanation.heatmap_png) {
    return (
      <p className="preview__note" role="note">
        {explanation.note || 'No heatmap could be made for this verdict.'}
      </p>
    )
  }
  const target = (explanation.target || result.label) === 'fake' ? 'fake' : 'real'
  return (
    <p className="preview__note" role="note">
      Regions that pushed toward {target}: the warmer the colour, the stronger the push{where}.
    </p>
  )
}
