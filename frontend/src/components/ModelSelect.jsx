/** Model picker filled from GET /api/models; "ensemble" is offered when there are 2+ models. */
export default function ModelSelect({ models, value, onChange, disabled = false, loading = false }) {
  const names = (models || []).map((m) => m.name)
  const options = names.length >= 2 ? [...names, 'ensemble'] : names
  return (
    <div className="field">
      <label htmlFor="model-select">Model</label>
      <select
        id="model-select"
        value={options.length ? value : ''}
        onChange={(e) => onChange(e.target.value)}
        disabled={disabled || options.length === 0}
        aria-describedby="model-select-hint"
      >
        {options.length === 0 && <option value="">{loading ? 'Loading models…' : 'Server default'}</option>}
        {options.map((name) => (
          <option key={name} value={name}>
            {name === 'ensemble' ? 'ensemble (all models averaged)' : name}
          </option>
        ))}
      </select>
      <p id="model-select-hint" className="field__hint">
        {describeModel(models, value)}
      </p>
    </div>
  )
}

function describeModel(models, value) {
  if (value === 'ensemble') return 'Averages the scores of every available model.'
  const m = (models || []).find((x) => x.name === value)
  if (!m) return 'The server picks its default model.'
  const bits = [m.architecture, m.input_size && `${m.input_size}px input`]
  if (m.metrics?.accuracy != null) bits.push(`accuracy ${Math.round(m.metrics.accuracy * 1000) / 10}%`)
  if (m.metrics?.auc != null) bits.push(`AUC ${m.metrics.auc.toFixed(3)}`)
  return bits.filter(Boolean).join(' · ')
}
