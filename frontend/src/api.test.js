import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import limits from '../../config/limits.json'
import {
  ApiError,
  MAX_UPLOAD_BYTES,
  MAX_VIDEO_UPLOAD_BYTES,
  describeProbability,
  fetchModels,
  formatClock,
  mediaKind,
  messageForStatus,
  predict,
  validateDuration,
  validateFile,
  verdictFor,
} from './api.js'
import { problem, server } from './test/server.js'

describe('api', () => {
  it('uses the limits shared with the server', () => {
    expect(MAX_UPLOAD_BYTES).toBe(limits.max_upload_bytes)
    expect(validateFile(new File(['x'], 'a.gif', { type: 'image/gif' }))).toBeNull()
    expect(validateFile(new File(['x'], 'a.svg', { type: 'image/svg+xml' }))).toMatch(/isn't a supported image/)
    expect(MAX_VIDEO_UPLOAD_BYTES).toBe(limits.max_video_upload_bytes)
    for (const type of [...limits.accepted_types, ...limits.accepted_video_types]) {
      expect(validateFile(new File(['x'], 'f', { type }))).toBeNull()
    }
  })

  it.each([
    ['clip.mkv', '', 'video'],
    ['IMG_1.HEIC', '', 'image'],
    ['photo.avif', 'application/octet-stream', 'image'],
    ['clip.mov', 'video/quicktime', 'video'],
    ['clip.flv', 'video/x-flv', null],
    ['notes', '', null],
  ])('knows %s (type "%s") as %s', (name, type, kind) => {
    expect(mediaKind(new File(['x'], name, { type }))).toBe(kind)
  })

  it.each([
    [0.62, '0:00.6'],
    [3.24, '0:03.2'],
    [59.96, '1:00.0'],
    [605.3, '10:05.3'],
  ])('writes %s s as %s', (seconds, text) => {
    expect(formatClock(seconds)).toBe(text)
  })

  it('checks a clip against its own size and length limits', () => {
    const clip = (size) => Object.defineProperty(new File(['x'], 'c.webm', { type: 'video/webm' }), 'size', { value: size })
    expect(validateFile(clip(MAX_UPLOAD_BYTES + 1))).toBeNull()
    expect(validateFile(clip(MAX_VIDEO_UPLOAD_BYTES + 1))).toMatch(/limit for clips/)
    expect(validateDuration(limits.max_video_duration_s)).toBeNull()
    expect(validateDuration(limits.max_video_duration_s + 0.5)).toMatch(/longer than the limit/)
    expect(validateDuration(Number.NaN)).toBeNull()
  })

  it.each([
    ['video-too-long', /longer than the limit/],
    ['undecodable-video', /couldn't be decoded/],
    ['no-video-stream', /no video in it/],
  ])('words the 422 problem %s whatever the page took the file for', (slug, text) => {
    const problemJson = { type: `urn:deepfake-detector:problem:${slug}` }
    expect(messageForStatus(422, problemJson, 'image')).toMatch(text)
    expect(messageForStatus(422, problemJson, 'video')).toMatch(text)
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

  it.each([
    [0.5, 'likely real'],
    [0.85, 'uncertain'],
    [0.915, 'uncertain'],
    [0.95, 'likely fake'],
    [0.995, 'very likely fake'],
  ])('reads p=%s against a 0.916 threshold as %s (never "fake" words for a real verdict)', (p, words) => {
    expect(describeProbability(p, 0.916)).toBe(words)
  })

  it.each([
    [0.349, 0.5, 'real'],
    [0.35, 0.5, 'uncertain'],
    [0.499, 0.5, 'uncertain'],
    [0.5, 0.5, 'fake'],
    [0.66, 0.95, 'real'],
    [0.67, 0.95, 'uncertain'],
    [0.95, 0.95, 'fake'],
  ])('gives p=%s at a %s threshold the verdict the server would (%s)', (p, threshold, verdict) => {
    expect(verdictFor(p, threshold)).toBe(verdict)
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
  it('reports upload progress and sends the frame count only with a clip', async () => {
    const seen = []
    server.use(
      http.post('*/api/predict', ({ request }) => {
        seen.push(new URL(request.url).searchParams.get('frames'))
        return HttpResponse.json({ media: 'video' })
      }),
    )
    const progress = []
    await predict(new File(['clip'], 'c.mp4', { type: 'video/mp4' }), { frames: 32, onUploadProgress: (f) => progress.push(f) })
    await predict(new File(['img'], 'a.png', { type: 'image/png' }), { frames: 32 })
    expect(seen).toEqual(['32', null])
    expect(progress.at(-1)).toBe(1)
  })

  it('stops an upload when its signal is aborted', async () => {
    let release
    server.use(http.post('*/api/predict', () => new Promise((resolve) => (release = resolve))))
    const controller = new AbortController()
    const pending = predict(new File(['x'], 'a.png', { type: 'image/png' }), { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    release?.(HttpResponse.json({}))
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
