import { render, screen } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { prediction, uncertainPrediction } from '../test/server.js'
import VerdictCard from './VerdictCard.jsx'

const REVIEW = "The probability of fake is below the model's threshold, but high enough that a person should look at it."

function renderCard(result) {
  render(<VerdictCard result={result} showHeatmap={false} onToggleHeatmap={() => {}} />)
}

describe('VerdictCard', () => {
  it.each([
    ['fake', 'Verdict: Fake', prediction({ label: 'fake', verdict: 'fake', probability_fake: 0.93 }), false],
    ['uncertain', 'Verdict: Uncertain', uncertainPrediction(), true],
    ['real', 'Verdict: Real', prediction(), false],
  ])('heads the %s answer "%s", asking a person to look only when it is uncertain', (_, heading, result, asksToLook) => {
    renderCard(result)
    expect(screen.getByRole('heading', { name: heading })).toBeInTheDocument()
    expect(Boolean(screen.queryByText(REVIEW))).toBe(asksToLook)
  })

  it.each([
    ['fake', 'Verdict: Fake'],
    ['real', 'Verdict: Real'],
  ])('falls back to the label (%s) of an older server that sends no verdict', (label, heading) => {
    const { verdict: _, ...older } = prediction({ label })
    renderCard(older)
    expect(screen.getByRole('heading', { name: heading })).toBeInTheDocument()
  })
})
