import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import MainPage from '../MainPage.jsx'
import { prediction, provenance, server } from '../test/server.js'

const NONE = { state: 'none', reason: null, signer: null, issuer: null, signed_at: null, claim_generator: null, failures: [] }

/** Analyse an image while the server answers with this provenance; returns the verdict region. */
async function analyseWith(answerProvenance) {
  server.use(http.post('*/api/predict', () => HttpResponse.json(prediction({ provenance: answerProvenance }))))
  const user = userEvent.setup({ applyAccept: false })
  render(<MainPage />)
  await screen.findByRole('option', { name: 'mobilenet_v2-faces-gan' })
  await user.upload(screen.getByLabelText('Image files or video clips'), new File([new Uint8Array([0xff, 0xd8, 0xff])], 'a.jpg', { type: 'image/jpeg' }))
  await user.click(screen.getByRole('button', { name: 'Analyze image' }))
  await screen.findByRole('heading', { name: /verdict/i })
  return screen.getByRole('region', { name: /verdict/i })
}

describe('ContentCredentials', () => {
  it('says what a signed manifest claims, who signed it and that the signer is not trusted', async () => {
    const card = await analyseWith(provenance())
    const panel = within(card).getByRole('region', { name: 'Content credentials' })
    expect(panel).toHaveTextContent('made, at least in part, by a generative AI tool')
    expect(panel).toHaveTextContent('Signed by Provenance Test Signer (Provenance Test Lab).')
    expect(panel).toHaveTextContent('the signer is not on the trust list')
    const items = within(within(panel).getByRole('list', { name: 'Metadata found' })).getAllByRole('listitem')
    expect(items).toHaveLength(1)
    expect(items[0]).toHaveTextContent(
      'C2PA c2pa.created: trainedAlgorithmicMedia by Fixture Diffusion 1.0 (signed by a signer that is not trusted)',
    )
    expect(panel).toHaveTextContent('Metadata can be stripped or forged')
    expect(panel).toHaveTextContent('its absence proves nothing')
  })

  it('says a trusted signature holds', async () => {
    const card = await analyseWith(
      provenance({
        evidence: [{ source: 'c2pa', field: 'c2pa.created', value: 'digitalCapture', trust: 'valid', indicates: 'camera' }],
        verdict: 'camera',
        c2pa: { ...provenance().c2pa, state: 'valid', failures: [] },
      }),
    )
    const panel = within(card).getByRole('region', { name: 'Content credentials' })
    expect(panel).toHaveTextContent('captured by a camera')
    expect(panel).toHaveTextContent('The signature holds and the signer is trusted.')
    expect(within(panel).getByRole('listitem')).toHaveTextContent('(signed, signature holds)')
  })

  it('warns that the file changed after it was signed', async () => {
    const card = await analyseWith(
      provenance({
        verdict: 'edited',
        evidence: [
          { source: 'c2pa', field: 'validation', value: 'assertion.dataHash.mismatch', trust: 'invalid', indicates: 'edited' },
        ],
        c2pa: { ...provenance().c2pa, state: 'tampered', failures: ['assertion.dataHash.mismatch'] },
      }),
    )
    const panel = within(card).getByRole('region', { name: 'Content credentials' })
    expect(panel).toHaveTextContent('the signature no longer holds: the file was changed after it was signed')
    expect(within(panel).getByRole('listitem')).toHaveTextContent('(signature broken)')
  })

  it('lists unsigned generator text without a signature sentence', async () => {
    const card = await analyseWith(
      provenance({
        evidence: [{ source: 'png-text', field: 'parameters', value: 'a portrait, Steps: 20', trust: 'unsigned', indicates: 'generated' }],
        c2pa: NONE,
      }),
    )
    const panel = within(card).getByRole('region', { name: 'Content credentials' })
    expect(within(panel).getByRole('listitem')).toHaveTextContent('PNG text parameters: a portrait, Steps: 20 (not signed)')
    expect(panel).not.toHaveTextContent(/signed by/i)
  })

  it('says when credentials were present but not checked', async () => {
    const card = await analyseWith(
      provenance({
        verdict: 'unknown',
        evidence: [],
        c2pa: { ...NONE, state: 'skipped', reason: 'the manifest store declares 50000000 bytes' },
      }),
    )
    const panel = within(card).getByRole('region', { name: 'Content credentials' })
    expect(panel).toHaveTextContent('Content Credentials that were not checked (the manifest store declares 50000000 bytes)')
    expect(within(panel).queryByRole('list')).not.toBeInTheDocument()
  })

  it.each([
    ['nothing was found', { verdict: 'unknown', evidence: [], c2pa: NONE, notes: [] }],
    ['the server does not read provenance', undefined],
  ])('shows nothing when %s', async (_, answerProvenance) => {
    const card = await analyseWith(answerProvenance)
    expect(within(card).queryByRole('region', { name: 'Content credentials' })).not.toBeInTheDocument()
    expect(card).not.toHaveTextContent(/stripped or forged/)
  })
})
