import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { HttpResponse, http } from 'msw'
import { afterEach, describe, expect, it } from 'vitest'
import MainPage from '../MainPage.jsx'
import { MODELS, prediction, server } from '../test/server.js'

const UNAUTHORIZED = { type: 'urn:deepfake-detector:problem:unauthorized', title: 'API key required', status: 401 }

/** A server that wants `Authorization: Bearer secret` on /api/models and /api/predict. */
function keyedServer(seen) {
  const allowed = (request) => {
    seen.push(request.headers.get('authorization'))
    return request.headers.get('authorization') === 'Bearer secret'
  }
  const denied = () => HttpResponse.json(UNAUTHORIZED, { status: 401, headers: { 'Content-Type': 'application/problem+json' } })
  server.use(
    http.get('*/api/models', ({ request }) => (allowed(request) ? HttpResponse.json(MODELS) : denied())),
    http.post('*/api/predict', ({ request }) => (allowed(request) ? HttpResponse.json(prediction()) : denied())),
  )
}

const JPEG = () => new File([new Uint8Array([0xff, 0xd8, 0xff])], 'a.jpg', { type: 'image/jpeg' })

describe('ApiKeyField', () => {
  afterEach(() => sessionStorage.clear())

  it('stays hidden while the server needs no key', async () => {
    render(<MainPage />)
    await screen.findByRole('option', { name: 'mobilenet_v2-faces-gan' })
    expect(screen.queryByLabelText('API key')).not.toBeInTheDocument()
  })

  it('appears after a 401 and sends the key as a Bearer token', async () => {
    const seen = []
    keyedServer(seen)
    const user = userEvent.setup({ applyAccept: false })
    render(<MainPage />)
    const field = await screen.findByLabelText('API key')
    await user.upload(screen.getByLabelText('Image files or video clips'), JPEG())
    await user.click(screen.getByRole('button', { name: 'Analyze image' }))
    expect(await screen.findByText(/needs an API key/)).toBeInTheDocument()

    await user.type(field, 'secret')
    await user.click(screen.getByRole('button', { name: 'Use key' }))
    expect(screen.getByText('Key saved for this tab.')).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Analyze another image' }))
    await user.upload(screen.getByLabelText('Image files or video clips'), JPEG())
    await user.click(screen.getByRole('button', { name: 'Analyze image' }))
    await screen.findByRole('heading', { name: /verdict/i })
    expect(seen.at(-1)).toBe('Bearer secret')
    expect(seen[0]).toBeNull()
  })
})
