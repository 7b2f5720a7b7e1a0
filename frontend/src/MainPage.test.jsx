import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import MainPage from './MainPage.jsx'
import { MAX_UPLOAD_BYTES } from './api.js'
import { controlXhr } from './test/controlledXhr.js'
import { imageFile, onPredict, renderPage, upload } from './test/page.jsx'
import { MODELS, TINY_PNG_B64, prediction, problem, server, uncertainPrediction } from './test/server.js'

async function uploadAndAnalyze(user, file) {
  await upload(user, file)
  await user.click(screen.getByRole('button', { name: 'Analyze image' }))
}

describe('MainPage', () => {
  it('starts empty: a drop zone, a model selector and nothing else to do', async () => {
    await renderPage()
    expect(screen.getByRole('heading', { level: 1, name: 'Deepfake Detector' })).toBeInTheDocument()
    expect(screen.getByRole('button', { name: /choose an image or a clip to analyze/i })).toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Analyze image' })).not.toBeInTheDocument()
    expect(screen.queryByRole('heading', { name: /verdict/i })).not.toBeInTheDocument()
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
    expect(screen.getByRole('status')).toBeEmptyDOMElement()
  })

  it('fills the model selector from /api/models, adds ensemble, and selects the default', async () => {
    await renderPage()
    const select = screen.getByLabelText('Model')
    const options = within(select).getAllByRole('option').map((o) => o.value)
    expect(options).toEqual(['mobilenet_v2-faces-gan', 'efficientnet_b0-faces-gan', 'ensemble'])
    expect(select).toHaveValue(MODELS.default)
  })

  it('offers no ensemble when only one model exists', async () => {
    server.use(http.get('*/api/models', () => HttpResponse.json({ default: 'only', models: [{ name: 'only' }] })))
    render(<MainPage />)
    await screen.findByRole('option', { name: 'only' })
    expect(within(screen.getByLabelText('Model')).getAllByRole('option')).toHaveLength(1)
  })

  it('shows a preview as soon as an image is chosen and focuses the Analyze button', async () => {
    const calls = onPredict(() => HttpResponse.json(prediction()))
    const user = await renderPage()
    await upload(user, imageFile('holiday.jpg'))
    expect(screen.getByRole('img', { name: 'Preview of holiday.jpg' })).toHaveAttribute('src', expect.stringMatching(/^blob:/))
    const analyze = screen.getByRole('button', { name: 'Analyze image' })
    // Focus moves in an effect after the render: wait for it rather than racing it on a busy machine.
    await waitFor(() => expect(analyze).toHaveFocus())
    expect(screen.queryByRole('button', { name: /choose an image or a clip to analyze/i })).not.toBeInTheDocument()
    expect(calls).toHaveLength(0)
  })

  it('says so when the browser cannot display the chosen file', async () => {
    const user = await renderPage()
    await upload(user, imageFile('broken.jpg'))
    fireEvent.error(screen.getByRole('img', { name: 'Preview of broken.jpg' }))
    expect(screen.getByText(/can't show a preview of this file/i)).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Analyze image' })).toBeInTheDocument()
  })

  it('accepts an image pasted with Ctrl+V', async () => {
    await renderPage()
    const file = imageFile('pasted.png', 'image/png')
    fireEvent.paste(document, {
      clipboardData: { items: [{ kind: 'file', type: 'image/png', getAsFile: () => file }], files: [file] },
    })
    expect(await screen.findByRole('img', { name: 'Preview of pasted.png' })).toBeInTheDocument()
  })

  it('shows the upload progress, then an Analyzing… state while the server works', async () => {
    const requests = controlXhr()
    const user = await renderPage()
    await uploadAndAnalyze(user, imageFile('holiday.jpg'))
    const [xhr] = requests
    expect(xhr.url.pathname).toBe('/api/predict')
    expect(screen.getByRole('status')).toHaveTextContent('Uploading…')
    await act(async () => xhr.progress(40, 100))
    expect(screen.getByRole('progressbar', { name: 'Upload of holiday.jpg' }).value).toBe(40)
    expect(screen.getByText('40%')).toBeInTheDocument()
    await act(async () => xhr.uploaded())
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument()
    expect(screen.getByRole('status')).toHaveTextContent('Analyzing…')
    expect(screen.getByRole('button', { name: 'Analyzing…' })).toBeDisabled()
    expect(screen.getByLabelText('Model')).toBeDisabled()
    await act(async () => xhr.respond(200, prediction()))
    expect(await screen.findByRole('heading', { name: /verdict: real/i })).toBeInTheDocument()
    expect(screen.getByRole('status')).not.toHaveTextContent('Analyzing')
  })

  it('shows a Real verdict with probability bar, words, model and latency', async () => {
    const calls = onPredict(() => HttpResponse.json(prediction()))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    const heading = await screen.findByRole('heading', { name: /verdict: real/i })
    await waitFor(() => expect(heading).toHaveFocus())
    const meter = screen.getByRole('meter', { name: 'Probability of fake' })
    expect(meter).toHaveAttribute('aria-valuenow', '4')
    expect(meter).toHaveAttribute('aria-valuetext', expect.stringContaining('very likely real'))
    const card = screen.getByRole('region', { name: /verdict/i })
    expect(card).toHaveTextContent('4% probability of fake — very likely real')
    expect(card).toHaveTextContent('mobilenet_v2-faces-gan')
    expect(card).toHaveTextContent('1a2b3c4d5e6f')
    expect(card).toHaveTextContent('45 ms')
    expect(screen.getByRole('status')).toHaveTextContent('Analysis complete: Real.')
    expect(calls[0].query).toMatchObject({ explain: '1', model: 'mobilenet_v2-faces-gan' })
  })

  it('shows a Fake verdict with every face outlined and scored', async () => {
    onPredict(() =>
      HttpResponse.json(
        prediction({
          label: 'fake',
          verdict: 'fake',
          probability_fake: 0.93,
          faces: [
            { box: [40, 60, 120, 140], probability_fake: 0.93, label: 'fake', verdict: 'fake', deciding: true },
            { box: [400, 100, 100, 120], probability_fake: 0.2, label: 'real', verdict: 'real', deciding: false },
          ],
          explanation: { heatmap_png: TINY_PNG_B64, box: [40, 60, 120, 140] },
        }),
      ),
    )
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await screen.findByRole('heading', { name: /verdict: fake/i })
    expect(screen.getByRole('meter', { name: 'Probability of fake' })).toHaveAttribute('aria-valuenow', '93')
    expect(screen.getByRole('region', { name: /verdict/i })).toHaveTextContent('very likely fake')
    expect(screen.getByText('2 faces were found', { exact: false })).toBeInTheDocument()

    const faces = within(screen.getByRole('list', { name: 'Detected faces' })).getAllByRole('listitem')
    expect(faces).toHaveLength(2)
    expect(faces[0]).toHaveAccessibleName(/face 1: 93% probability of fake, very likely fake \(deciding face\)/i)
    expect(faces[1]).toHaveAccessibleName(/face 2: 20% probability of fake, likely real/i)
    expect(faces[0]).toHaveTextContent('93% fake')
    expect(faces[1]).toHaveTextContent('20% fake')
    // Boxes are in image pixels (640x480) and scaled as percentages of the displayed image.
    expect(faces[1]).toHaveStyle({ left: '62.5%', top: `${(100 / 480) * 100}%`, width: `${(100 / 640) * 100}%` })
  })

  it('shows an Uncertain verdict, and draws and describes the face in that band as uncertain', async () => {
    onPredict(() => HttpResponse.json(uncertainPrediction()))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await screen.findByRole('heading', { name: 'Verdict: Uncertain' })
    expect(screen.getByRole('region', { name: /verdict/i })).toHaveTextContent('a person should look at it')
    expect(screen.getByRole('status')).toHaveTextContent('Analysis complete: Uncertain.')
    const [uncertain, real] = within(screen.getByRole('list', { name: 'Detected faces' })).getAllByRole('listitem')
    expect(uncertain).toHaveAccessibleName('Face 1: 42% probability of fake, uncertain (deciding face)')
    expect(uncertain).toHaveClass('facebox--uncertain')
    expect(real).toHaveClass('facebox--real')
  })

  it.each([
    ['gan', 'Looks fully generated, most likely by a GAN model.', { gan: 0.81, diffusion: 0.14, swap: 0.05 }],
    ['diffusion', 'Looks fully generated, most likely by a diffusion model.', { gan: 0.1, diffusion: 0.7, swap: 0.2 }],
    ['swap', 'Looks like a face swapped onto a real photo or video.', { gan: 0.02, diffusion: 0.03, swap: 0.95 }],
  ])('says in one plain sentence what kind of fake the model guesses (%s), probabilities on demand', async (kind, sentence, probabilities) => {
    onPredict(() =>
      HttpResponse.json(prediction({ label: 'fake', verdict: 'fake', probability_fake: 0.97, kind, kind_probabilities: probabilities })),
    )
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await screen.findByRole('heading', { name: /verdict: fake/i })
    const guess = within(screen.getByRole('region', { name: /verdict/i })).getByRole('group', { name: 'Kind of fake' })
    expect(guess).toHaveTextContent(sentence)
    expect(guess).toHaveTextContent("the model's guess, not proof")
    const details = within(guess).getByText('How sure is this guess?')
    const list = within(guess).getByRole('list', { name: 'Kind probabilities', hidden: true })
    expect(list.closest('details')).not.toHaveAttribute('open')
    await user.click(details)
    expect(list.closest('details')).toHaveAttribute('open')
    expect(within(list).getAllByRole('listitem').map((item) => item.textContent)).toEqual([
      `GAN (fully generated): ${Math.round(probabilities.gan * 100)}%`,
      `Diffusion model (fully generated): ${Math.round(probabilities.diffusion * 100)}%`,
      `Face swap: ${Math.round(probabilities.swap * 100)}%`,
    ])
  })

  it('says nothing about the kind of fake when the answer has none (real verdict, or a model without a kind head)', async () => {
    onPredict(() => HttpResponse.json(prediction({ label: 'fake', verdict: 'fake', probability_fake: 0.9 })))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await screen.findByRole('heading', { name: /verdict: fake/i })
    expect(screen.queryByRole('group', { name: 'Kind of fake' })).not.toBeInTheDocument()
    expect(screen.getByRole('region', { name: /verdict/i })).not.toHaveTextContent(/generated|swapped/)
  })

  it('says plainly when no face was found', async () => {
    onPredict(() =>
      HttpResponse.json(prediction({ face_detected: false, faces: [], probability_fake: 0.5, explanation: undefined })),
    )
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await screen.findByRole('heading', { name: /verdict/i })
    expect(screen.getByText('No face found — the whole image was analysed.')).toBeInTheDocument()
    expect(screen.queryByRole('list', { name: 'Detected faces' })).not.toBeInTheDocument()
    expect(screen.getByRole('region', { name: /verdict/i })).toHaveTextContent('uncertain')
  })

  it('shows and hides the Grad-CAM heatmap with the toggle', async () => {
    onPredict(() => HttpResponse.json(prediction()))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    const toggle = await screen.findByRole('switch', { name: 'Show heatmap' })
    expect(toggle).not.toBeChecked()
    expect(screen.queryByRole('img', { name: /heatmap/i })).not.toBeInTheDocument()
    await user.click(toggle)
    const heatmap = screen.getByRole('img', { name: 'Heatmap: regions that pushed toward real' })
    expect(heatmap).toHaveAttribute('src', `data:image/png;base64,${TINY_PNG_B64}`)
    expect(screen.getByRole('note')).toHaveTextContent(/^Regions that pushed toward real/)
    await user.click(toggle)
    expect(screen.queryByRole('img', { name: /heatmap/i })).not.toBeInTheDocument()
  })

  it('says in words why a real verdict has no heatmap instead of showing an empty one', async () => {
    const note = 'No region of this face pushed the model toward "real": it found nothing fake rather than something real.'
    const explanation = { heatmap_png: null, box: [100, 80, 200, 220], target: 'real', note }
    onPredict(() => HttpResponse.json(prediction({ explanation })))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await user.click(await screen.findByRole('switch', { name: 'Show heatmap' }))
    expect(screen.getByRole('note')).toHaveTextContent(note)
    expect(screen.queryByRole('img', { name: /heatmap/i })).not.toBeInTheDocument()
  })

  it('labels a fake verdict\'s heatmap with the class it explains', async () => {
    const explanation = { heatmap_png: TINY_PNG_B64, box: [100, 80, 200, 220], target: 'fake', note: null }
    onPredict(() => HttpResponse.json(prediction({ label: 'fake', verdict: 'fake', probability_fake: 0.9, explanation })))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await user.click(await screen.findByRole('switch', { name: 'Show heatmap' }))
    expect(screen.getByRole('img', { name: 'Heatmap: regions that pushed toward fake' })).toBeInTheDocument()
  })

  it('takes a HEIC photo the browser gives no type and cannot preview, and sends it as HEIC', async () => {
    const calls = onPredict(async ({ request }) => {
      calls.form = await request.formData()
      return HttpResponse.json(prediction())
    })
    const user = await renderPage()
    await upload(user, imageFile('IMG_0042.HEIC', ''))
    fireEvent.error(screen.getByRole('img', { name: 'Preview of IMG_0042.HEIC' }))
    expect(screen.getByText(/can't show a preview of this file/i)).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Analyze image' }))
    expect(await screen.findByRole('heading', { name: /verdict: real/i })).toBeInTheDocument()
    expect(calls.form.get('file')).toMatchObject({ type: 'image/heic' })
  })

  it.each([
    [400, 'Bad Request', /no image was received/i],
    [413, 'Payload Too Large', /larger than the 10 MB limit/i],
    [415, 'Unsupported Media Type', /file type isn't supported/i],
    [422, 'Unprocessable Entity', /couldn't be analysed \(empty, too large in pixels or damaged\)/i],
  ])('explains a %i problem+json answer in plain words', async (status, title, text) => {
    onPredict(() => problem(status, title, `server detail ${status}`))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent(text)
    expect(alert).toHaveTextContent(`server detail ${status}`)
    expect(screen.queryByRole('heading', { name: /verdict/i })).not.toBeInTheDocument()
    // Sending the same file again would not help; choosing another one does.
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Analyze another image' })).toBeInTheDocument()
  })

  it('explains an unknown model (404) and lists the known ones', async () => {
    onPredict(() => problem(404, 'Not Found', 'unknown model', { known_models: ['a', 'b'] }))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    expect(await screen.findByRole('alert')).toHaveTextContent(/model isn't available.*a, b/i)
  })

  it('explains that the server is not ready (503) and offers a retry', async () => {
    onPredict(() => problem(503, 'Service Unavailable', 'no model loaded'))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    expect(await screen.findByRole('alert')).toHaveTextContent(/isn't ready to analyse images/i)
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument()
  })

  it('says the server cannot be reached when the network is down', async () => {
    onPredict(() => HttpResponse.error())
    const user = await renderPage()
    await uploadAndAnalyze(user)
    expect(await screen.findByRole('alert')).toHaveTextContent(/can't reach the analysis server/i)
    // A retry can work once the server is back.
    server.use(http.post('*/api/predict', () => HttpResponse.json(prediction())))
    await user.click(screen.getByRole('button', { name: 'Try again' }))
    expect(await screen.findByRole('heading', { name: /verdict: real/i })).toBeInTheDocument()
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
  })

  it('rejects a too-large file before sending anything', async () => {
    const calls = onPredict(() => HttpResponse.json(prediction()))
    const user = await renderPage()
    const big = imageFile('huge.jpg')
    Object.defineProperty(big, 'size', { value: MAX_UPLOAD_BYTES + 1 })
    await upload(user, big)
    expect(await screen.findByRole('alert')).toHaveTextContent(/larger than the 10 MB limit/i)
    expect(screen.queryByRole('img', { name: /preview/i })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Analyze image' })).not.toBeInTheDocument()
    expect(calls).toHaveLength(0)
  })

  it('rejects a file that is not an image before sending anything', async () => {
    const calls = onPredict(() => HttpResponse.json(prediction()))
    const user = await renderPage()
    await upload(user, new File(['hello'], 'notes.txt', { type: 'text/plain' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(/"notes.txt" isn't a supported image or clip.*JPEG, PNG, WebP, BMP, GIF, HEIC, HEIF or AVIF image or an MP4, MOV, WebM, MKV or AVI clip/i)
    expect(screen.queryByRole('button', { name: 'Analyze image' })).not.toBeInTheDocument()
    expect(calls).toHaveLength(0)
    // The person can start over from the message.
    await user.click(screen.getByRole('button', { name: 'Analyze another image' }))
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: /choose an image or a clip to analyze/i })).toBeInTheDocument()
  })

  it('sends the chosen model with the image', async () => {
    const calls = onPredict(async ({ request }) => {
      const form = await request.formData()
      calls.form = form
      return HttpResponse.json(prediction({ model: { name: 'ensemble', version: 'x' } }))
    })
    const user = await renderPage()
    await user.selectOptions(screen.getByLabelText('Model'), 'ensemble')
    await uploadAndAnalyze(user)
    await screen.findByRole('heading', { name: /verdict/i })
    expect(calls).toHaveLength(1)
    expect(calls[0].query.model).toBe('ensemble')
    expect(calls.form.get('model')).toBe('ensemble')
    // (jsdom's File loses its name on the way through Node's fetch; browsers keep it.)
    expect(calls.form.get('file')).toMatchObject({ size: 8, type: 'image/jpeg' })
  })

  it('"Analyze another image" resets the page and focuses the drop zone', async () => {
    onPredict(() => HttpResponse.json(prediction()))
    const user = await renderPage()
    await uploadAndAnalyze(user)
    await screen.findByRole('heading', { name: /verdict/i })
    await user.click(screen.getByRole('button', { name: 'Analyze another image' }))
    expect(screen.queryByRole('heading', { name: /verdict/i })).not.toBeInTheDocument()
    expect(screen.queryByRole('img', { name: /preview/i })).not.toBeInTheDocument()
    const zone = screen.getByRole('button', { name: /choose an image or a clip to analyze/i })
    await waitFor(() => expect(zone).toHaveFocus())
    // And a new image can be analysed.
    await uploadAndAnalyze(user, imageFile('second.png', 'image/png'))
    expect(await screen.findByRole('heading', { name: /verdict/i })).toBeInTheDocument()
  })
})
