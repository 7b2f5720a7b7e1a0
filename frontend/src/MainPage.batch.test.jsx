import { screen, waitFor, within } from '@testing-library/react'
import { HttpResponse } from 'msw'
import { describe, expect, it, vi } from 'vitest'
import { clipFile, imageFile, onPredict, renderPage, upload } from './test/page.jsx'
import { prediction, problem, uncertainPrediction, videoPrediction } from './test/server.js'

const NOT_SUPPORTED =
  '"notes.txt" isn\'t a supported image or clip. Please choose a JPEG, PNG, WebP, BMP, GIF, HEIC, HEIF or AVIF image or an MP4, MOV, WebM, MKV or AVI clip.'

function files() {
  return [
    imageFile('a, b.jpg'),
    clipFile('talk.mp4'),
    new File(['hello'], 'notes.txt', { type: 'text/plain' }),
    imageFile('damaged.png', 'image/png'),
  ]
}

/** Answer by media kind (jsdom drops file names on the way), failing the second image; count overlapping requests. */
function answerByKind() {
  let inFlight = 0
  let images = 0
  const calls = onPredict(async ({ request }) => {
    inFlight += 1
    calls.maxInFlight = Math.max(calls.maxInFlight || 0, inFlight)
    const file = (await request.formData()).get('file')
    await new Promise((resolve) => setTimeout(resolve, 5))
    inFlight -= 1
    if (file.type.startsWith('video/')) return HttpResponse.json(videoPrediction())
    images += 1
    return images === 1 ? HttpResponse.json(prediction()) : problem(422, 'Unprocessable', 'cannot decode')
  })
  return calls
}

function rows() {
  return within(screen.getByRole('region', { name: /results/i })).getAllByRole('button', { name: /·/ })
}

async function analyseAll() {
  const calls = answerByKind()
  const user = await renderPage()
  await upload(user, files())
  await user.click(screen.getByRole('button', { name: 'Analyze 3 files' }))
  await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Finished: 2 of 4 files analysed.'))
  return { user, calls }
}

function readBlob(blob) {
  return new Promise((resolve) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result)
    reader.readAsText(blob)
  })
}

describe('MainPage with several files', () => {
  it('lists the chosen files and refuses the unsupported one before sending anything', async () => {
    const calls = answerByKind()
    const user = await renderPage()
    await upload(user, files())
    expect(screen.getByRole('heading', { name: 'Results (4 files)' })).toBeInTheDocument()
    expect(rows().map((row) => row.textContent)).toEqual([
      'a, b.jpg, Image · Not analysed yet',
      'talk.mp4, Clip · Not analysed yet',
      `notes.txt, Unsupported file · ${NOT_SUPPORTED}`,
      'damaged.png, Image · Not analysed yet',
    ])
    expect(screen.getByRole('button', { name: 'Download CSV' })).toBeDisabled()
    expect(calls).toHaveLength(0)
  })

  it('analyses them one after another and lists each verdict or error', async () => {
    const { calls } = await analyseAll()
    expect(calls).toHaveLength(3)
    expect(calls.maxInFlight).toBe(1)
    const [image, clip, text, damaged] = rows()
    expect(image).toHaveTextContent('a, b.jpg, Image · Real — 4% fake')
    expect(clip).toHaveTextContent('talk.mp4, Clip · Fake — 81% fake')
    expect(text).toHaveTextContent("isn't a supported image or clip")
    expect(damaged).toHaveTextContent("damaged.png, Image · The image couldn't be analysed")
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Results (4 files)' })).toHaveFocus())
  })

  it("shows a file's full result when it is picked from the list", async () => {
    const { user } = await analyseAll()
    // The first file is shown to begin with.
    expect(screen.getByRole('heading', { name: 'Verdict: Real' })).toBeInTheDocument()
    expect(screen.getByRole('img', { name: 'Preview of a, b.jpg' })).toBeInTheDocument()

    const [, clip, , damaged] = rows()
    await user.click(clip)
    expect(clip).toHaveAttribute('aria-current', 'true')
    expect(screen.getByLabelText('Clip talk.mp4')).toBeInTheDocument()
    expect(screen.getByRole('heading', { name: 'Verdict: Fake' })).toBeInTheDocument()
    expect(within(screen.getByRole('group', { name: /over time/i })).getAllByRole('button')).toHaveLength(4)

    await user.click(damaged)
    expect(screen.queryByRole('heading', { name: /verdict/i })).not.toBeInTheDocument()
    expect(screen.getByRole('alert')).toHaveTextContent("The image couldn't be analysed")
    expect(screen.getByRole('alert')).toHaveTextContent('cannot decode')
  })

  it('downloads every verdict as CSV', async () => {
    const { user } = await analyseAll()
    const made = vi.spyOn(URL, 'createObjectURL')
    const clicked = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function record() {
      clicked.download = this.download
    })
    await user.click(screen.getByRole('button', { name: 'Download CSV' }))
    expect(clicked.download).toBe('deepfake-verdicts.csv')
    const blob = made.mock.calls.at(-1)[0]
    expect(blob.type).toBe('text/csv;charset=utf-8')
    expect((await readBlob(blob)).split('\r\n')).toEqual([
      'file,media,label,verdict,probability_fake,kind,kind_probability_gan,kind_probability_diffusion,kind_probability_swap,' +
        'face_detected,faces_or_tracks,model,error',
      '"a, b.jpg",image,real,real,0.04,,,,,true,1,mobilenet_v2-faces-gan,',
      'talk.mp4,video,fake,fake,0.81,swap,0.05,0.1,0.85,true,2,mobilenet_v2-faces-gan,',
      `notes.txt,,,,,,,,,,,,"${NOT_SUPPORTED.replaceAll('"', '""')}"`,
      `damaged.png,image,,,,,,,,,,,"The image couldn't be analysed (empty, too large in pixels or damaged). Please try a different image."`,
      '',
    ])
  })

  it('lists an uncertain verdict as Uncertain, not Real', async () => {
    onPredict(({ call }) => HttpResponse.json(call === 1 ? uncertainPrediction() : prediction()))
    const user = await renderPage()
    await upload(user, [imageFile('first.jpg'), imageFile('second.jpg')])
    await user.click(screen.getByRole('button', { name: 'Analyze 2 files' }))
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Finished: 2 of 2 files analysed.'))
    const [uncertain, real] = rows()
    expect(uncertain).toHaveTextContent('first.jpg, Image · Uncertain — 42% fake')
    expect(uncertain).toHaveClass('card-button--uncertain')
    expect(real).toHaveTextContent('second.jpg, Image · Real — 4% fake')
  })

  it('keeps the single-result flow for one file', async () => {
    onPredict(() => HttpResponse.json(prediction()))
    const user = await renderPage()
    await upload(user, [imageFile('one.jpg')])
    await user.click(screen.getByRole('button', { name: 'Analyze image' }))
    await screen.findByRole('heading', { name: 'Verdict: Real' })
    expect(screen.queryByRole('region', { name: /results/i })).not.toBeInTheDocument()
    expect(screen.queryByRole('button', { name: 'Download CSV' })).not.toBeInTheDocument()
  })
})
