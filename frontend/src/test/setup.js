import '@testing-library/jest-dom/vitest'
import { cleanup } from '@testing-library/react'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { server } from './server.js'

// jsdom has no object URLs; the preview only needs a string it can put in <img src>.
if (!URL.createObjectURL) {
  let n = 0
  URL.createObjectURL = () => `blob:http://localhost/preview-${++n}`
}
if (!URL.revokeObjectURL) {
  URL.revokeObjectURL = () => {}
}

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  server.resetHandlers()
})
afterAll(() => server.close())
