import { formatPercent } from '../api.js'

// What kind of fake the model's second head guesses (the server sends it only for a fake or uncertain verdict).
export const KIND_SENTENCES = {
  gan: 'Looks fully generated, most likely by a GAN model.',
  diffusion: 'Looks fully generated, most likely by a diffusion model.',
  swap: 'Looks like a face swapped onto a real photo or video.',
}
const KIND_LABELS = { gan: 'GAN (fully generated)', diffusion: 'Diffusion model (fully generated)', swap: 'Face swap' }

/** One plain sentence on the kind of fake, said to be a guess, with the kind probabilities on demand; nothing
 * when the answer has no kind (a real verdict, or a model without a kind head). */
export default function KindGuess({ kind, probabilities }) {
  if (!KIND_SENTENCES[kind]) return null
  return (
    <div className="kind" role="group" aria-label="Kind of fake">
      <p className="kind__sentence">
        {KIND_SENTENCES[kind]} <span className="muted">This is the model's guess, not proof.</span>
      </p>
      {probabilities && (
        <details className="kind__details">
          <summary>How sure is this guess?</summary>
          <ul aria-label="Kind probabilities">
            {Object.entries(probabilities).map(([name, p]) => (
              <li key={name}>
                {KIND_LABELS[name] || name}: {formatPercent(p)}
              </li>
            ))}
          </ul>
          <p className="muted">If the image is fake, how likely each kind is, as the model estimates it.</p>
        </details>
      )}
    </div>
  )
}
