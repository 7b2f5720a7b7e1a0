import '@testing-library/jest-dom/vitest'
import { cleanup } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, vi } from 'vitest'
import { server } from './server.js'

// jsdom has no object URLs; the preview only needs a string it can put in <img src>.
if (!URL.createObjectURL) {
  let n = 0
  URL.createObjectURL = () => `blob:http://localhost/preview-${++n}`
}
if (!URL.revokeObjectURL) {
  URL.revokeObjectURL = () => {}
}

// jsdom has no media playback: these would only log "not implemented". currentTime is a plain property there.
HTMLMediaElement.prototype.load = () => {}
HTMLMediaElement.prototype.pause = () => {}
HTMLMediaElement.prototype.play = () => Promise.resolve()

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  server.resetHandlers()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})
afterAll(() => server.close())
