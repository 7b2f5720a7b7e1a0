// Shared steps of the page tests: render, choose files, answer /api/predict.
import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http } from 'msw'
import MainPage from '../MainPage.jsx'
import { server } from './server.js'

export function imageFile(name = 'face.jpg', type = 'image/jpeg') {
  return new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4])], name, { type })
}

export function clipFile(name = 'talk.mp4', type = 'video/mp4') {
  return new File([new Uint8Array([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 1, 2])], name, { type })
}

/** Record every predict request and answer with `respond`. */
export function onPredict(respond) {
  const calls = []
  server.use(
    http.post('*/api/predict', async ({ request }) => {
      const url = new URL(request.url)
      calls.push({ url, query: Object.fromEntries(url.searchParams) })
      return respond({ request, url, call: calls.length })
    }),
  )
  return calls
}

export async function renderPage() {
  const user = userEvent.setup({ applyAccept: false })
  render(<MainPage />)
  // Wait until the model list has arrived so state updates don't race the test.
  await screen.findByRole('option', { name: 'mobilenet_v2-faces-gan' })
  return user
}

export async function upload(user, files = imageFile()) {
  await user.upload(screen.getByLabelText('Image files or video clips'), files)
}
