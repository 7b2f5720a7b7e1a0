import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import limits from '../../config/limits.json'
import { ApiError, MAX_UPLOAD_BYTES, describeProbability, fetchModels, predict, validateFile } from './api.js'
import { problem, server } from './test/server.js'

describe('api', () => {
  it('uses the limits shared with the server', () => {
    expect(MAX_UPLOAD_BYTES).toBe(limits.max_upload_bytes)
    expect(validateFile(new File(['x'], 'a.gif', { type: 'image/gif' }))).toBeNull()
    expect(validateFile(new File(['x'], 'a.svg', { type: 'image/svg+xml' }))).toMatch(/isn't a supported image/)
  })

  it.each([
    [0, 'very likely real'],
    [0.099, 'very likely real'],
    [0.1, 'likely real'],
    [0.34, 'likely real'],
    [0.35, 'uncertain'],
    [0.64, 'uncertain'],
    [0.65, 'likely fake'],
    [0.89, 'likely fake'],
    [0.9, 'very likely fake'],
    [1, 'very likely fake'],
  ])('describes p=%s as %s', (p, words) => {
    expect(describeProbability(p)).toBe(words)
  })

  it('calls relative /api URLs only', async () => {
    let seen
    server.use(
      http.get('*/api/models', ({ request }) => {
        seen = new URL(request.url)
        return HttpResponse.json({ default: 'm', models: [] })
      }),
    )
    await fetchModels()
    expect(seen.origin).toBe(window.location.origin)
    expect(seen.pathname).toBe('/api/models')
  })

  it('turns problem+json into an ApiError with status, title and detail', async () => {
    server.use(http.post('*/api/predict', () => problem(415, 'Unsupported Media Type', 'not an image')))
    const err = await predict(new File(['x'], 'a.png', { type: 'image/png' })).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ status: 415, title: 'Unsupported Media Type', detail: 'not an image', kind: 'http' })
  })

  it('says how long to wait after a 429 (Retry-After)', async () => {
    server.use(
      http.get('*/api/models', () =>
        HttpResponse.json(
          { type: 'about:blank', title: 'Too Many Requests', status: 429, detail: '60 per 1 minute' },
          { status: 429, headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '17' } },
        ),
      ),
    )
    await expect(fetchModels()).rejects.toMatchObject({ status: 429, message: expect.stringMatching(/wait 17 seconds/) })
  })
})
