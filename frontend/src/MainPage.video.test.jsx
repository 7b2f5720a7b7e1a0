import { act, fireEvent, screen, within } from '@testing-library/react'
import { HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { MAX_UPLOAD_BYTES, MAX_VIDEO_DURATION_S, MAX_VIDEO_UPLOAD_BYTES } from './api.js'
import { controlXhr } from './test/controlledXhr.js'
import { clipFile, onPredict, renderPage, upload } from './test/page.jsx'
import { THUMBNAIL_B64, TINY_PNG_B64, problem, videoPrediction } from './test/server.js'

function player(name = 'talk.mp4') {
  return screen.getByLabelText(`Clip ${name}`)
}

async function analyseClip(answer = videoPrediction()) {
  const calls = onPredict(() => HttpResponse.json(answer))
  const user = await renderPage()
  await upload(user, clipFile())
  await user.click(screen.getByRole('button', { name: 'Analyze clip' }))
  await screen.findByRole('heading', { name: /verdict/i })
  return { user, calls }
}

function timelinePoints() {
  return within(screen.getByRole('group', { name: /probability of fake over time/i })).getAllByRole('button')
}

function facesOnScreen() {
  const list = screen.queryByRole('list', { name: 'Faces in this frame' })
  return list ? within(list).getAllByRole('listitem') : []
}

describe('MainPage with a clip', () => {
  it('shows a chosen clip in a video player, ready to analyse', async () => {
    const user = await renderPage()
    await upload(user, clipFile())
    const video = player()
    expect(video.tagName).toBe('VIDEO')
    expect(video).toHaveAttribute('controls')
    expect(video).toHaveAttribute('src', expect.stringMatching(/^blob:/))
    expect(screen.queryByRole('img', { name: /preview/i })).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Analyze clip' })).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Analyze another clip' })).toBeInTheDocument()
  })

  it('refuses a clip longer than the limit once the player has read its length', async () => {
    const calls = onPredict(() => HttpResponse.json(videoPrediction()))
    const user = await renderPage()
    await upload(user, clipFile('short.mp4'))
    Object.defineProperty(player('short.mp4'), 'duration', { value: 30 })
    fireEvent.loadedMetadata(player('short.mp4'))
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()

    await user.click(screen.getByRole('button', { name: 'Analyze another clip' }))
    await upload(user, clipFile('long.mp4'))
    Object.defineProperty(player('long.mp4'), 'duration', { value: MAX_VIDEO_DURATION_S + 1 })
    fireEvent.loadedMetadata(player('long.mp4'))
    expect(await screen.findByRole('alert')).toHaveTextContent(/lasts 10:01\.0, longer than the limit of 10 minutes/)
    expect(screen.queryByRole('button', { name: 'Analyze clip' })).not.toBeInTheDocument()
    expect(calls).toHaveLength(0)
  })

  it('checks a clip against the clip size limit, not the image one', async () => {
    const user = await renderPage()
    const biggerThanAnImage = clipFile('medium.mp4')
    Object.defineProperty(biggerThanAnImage, 'size', { value: MAX_UPLOAD_BYTES * 2 })
    await upload(user, biggerThanAnImage)
    expect(screen.queryByRole('alert')).not.toBeInTheDocument()
    expect(player('medium.mp4')).toBeInTheDocument()

    await user.click(screen.getByRole('button', { name: 'Analyze another clip' }))
    const huge = clipFile('huge.mp4')
    Object.defineProperty(huge, 'size', { value: MAX_VIDEO_UPLOAD_BYTES + 1 })
    await upload(user, huge)
    expect(await screen.findByRole('alert')).toHaveTextContent(/"huge\.mp4" is 100\.0\sMB, larger than the 100\sMB limit for clips/)
    expect(screen.queryByLabelText('Clip huge.mp4')).not.toBeInTheDocument()
  })

  it('names the clip formats when a video is of a kind the server does not take', async () => {
    const user = await renderPage()
    await upload(user, clipFile('old.flv', 'video/x-flv'))
    expect(await screen.findByRole('alert')).toHaveTextContent(
      /"old\.flv" is a kind of video this page can't read\. Please choose an MP4, MOV, WebM, MKV or AVI clip/,
    )
  })

  it('shows the upload progress of a clip, then that the server is at work', async () => {
    const requests = controlXhr()
    const user = await renderPage()
    await upload(user, clipFile())
    await user.click(screen.getByRole('button', { name: 'Analyze clip' }))
    await act(async () => requests[0].progress(3, 4))
    expect(screen.getByRole('progressbar', { name: 'Upload of talk.mp4' }).value).toBe(75)
    await act(async () => requests[0].uploaded())
    expect(screen.getByRole('status')).toHaveTextContent('Analyzing… Long clips take a while.')
    await act(async () => requests[0].respond(200, videoPrediction()))
    expect(await screen.findByRole('heading', { name: 'Verdict: Fake' })).toBeInTheDocument()
  })

  it('shows the verdict, one timeline point per sampled frame and one thumbnail per face', async () => {
    const answer = videoPrediction()
    await analyseClip(answer)
    expect(screen.getByRole('meter', { name: 'Probability of fake' })).toHaveAttribute('aria-valuenow', '81')
    const card = screen.getByRole('region', { name: /verdict/i })
    expect(card).toHaveTextContent('2 faces were followed through 4 sampled frames')
    expect(card).toHaveTextContent('931 ms')
    expect(within(card).getByRole('group', { name: 'Kind of fake' })).toHaveTextContent(
      "Looks like a face swapped onto a real photo or video. This is the model's guess, not proof.",
    )
    expect(screen.getByText(/talk\.mp4 · 4\.0 s · 1280×720 · h264 · 4 frames sampled/)).toBeInTheDocument()

    const points = timelinePoints()
    expect(points).toHaveLength(answer.timeline.length)
    expect(points.map((p) => p.getAttribute('aria-label'))).toEqual([
      '0:00.5 — 62% fake',
      '0:01.5 — 81% fake',
      '0:02.5 — 70% fake',
      '0:03.5 — 55% fake',
    ])

    const tracks = within(screen.getByRole('region', { name: 'Faces in the clip' })).getAllByRole('button')
    expect(tracks).toHaveLength(2)
    expect(tracks[0]).toHaveAccessibleName(/^Face 1 81% fake, likely fake: show its most-fake frame at 0:01\.5$/)
    expect(tracks[1]).toHaveAccessibleName(/^Face 2 12% fake, likely real/)
    expect(within(tracks[1]).getByRole('img', { name: 'Face 2' })).toHaveAttribute(
      'src',
      `data:image/jpeg;base64,${THUMBNAIL_B64}2`,
    )
  })

  it('seeks the player to a timeline point by click or keyboard, and draws the faces of that frame', async () => {
    const { user } = await analyseClip()
    const video = player()
    // At 0 s the nearest sampled frame is 0.5 s, where both faces are.
    expect(facesOnScreen().map((f) => f.getAttribute('aria-label'))).toEqual([
      'Face 1: 62% probability of fake, uncertain (deciding face)',
      'Face 2: 10% probability of fake, likely real',
    ])

    await user.click(screen.getByRole('button', { name: '0:03.5 — 55% fake' }))
    expect(video.currentTime).toBe(3.5)
    const faces = facesOnScreen()
    expect(faces).toHaveLength(1)
    expect(faces[0]).toHaveAccessibleName(/^Face 1: 55% probability of fake/)
    // The frame's box [412, 120, 300, 300] in 1280x720 video pixels, as shares of the displayed player.
    expect(faces[0]).toHaveStyle({ left: `${(412 / 1280) * 100}%`, top: `${(120 / 720) * 100}%`, width: `${(300 / 1280) * 100}%` })
    expect(screen.getByRole('button', { name: '0:03.5 — 55% fake' })).toHaveAttribute('aria-current', 'true')

    screen.getByRole('button', { name: '0:02.5 — 70% fake' }).focus()
    await user.keyboard('{Enter}')
    expect(video.currentTime).toBe(2.5)
  })

  it('follows the playhead: the boxes are those of the sampled frame nearest to the current time', async () => {
    await analyseClip()
    const video = player()
    video.currentTime = 1.3
    fireEvent.timeUpdate(video)
    expect(facesOnScreen().map((f) => f.getAttribute('aria-label'))).toEqual([
      'Face 1: 81% probability of fake, likely fake (deciding face)',
      'Face 2: 12% probability of fake, likely real',
    ])
    video.currentTime = 3.1
    fireEvent.timeUpdate(video)
    expect(facesOnScreen().map((f) => f.getAttribute('aria-label'))).toEqual([
      'Face 1: 55% probability of fake, uncertain (deciding face)',
    ])
  })

  it('draws and describes a face, a frame and a track in the uncertain band as uncertain', async () => {
    const answer = videoPrediction()
    Object.assign(answer.tracks[1], { probability_fake: 0.4, label: 'real', verdict: 'uncertain' })
    answer.tracks[1].frames[1].probability_fake = 0.4
    answer.timeline[3].probability_fake = 0.45
    const { user } = await analyseClip(answer)

    const track = screen.getByRole('button', { name: /^Face 2/ })
    expect(track).toHaveAccessibleName(/^Face 2 40% fake, uncertain/)
    expect(track).toHaveClass('card-button--uncertain')

    await user.click(screen.getByRole('button', { name: '0:01.5 — 81% fake' }))
    const [fake, uncertain] = facesOnScreen()
    expect(uncertain).toHaveAccessibleName('Face 2: 40% probability of fake, uncertain')
    expect(uncertain).toHaveClass('facebox--uncertain')
    expect(fake).toHaveClass('facebox--fake')
    expect(screen.getByRole('button', { name: '0:03.5 — 45% fake' })).toHaveClass('timeline__point--uncertain')
    expect(screen.getByRole('button', { name: '0:00.5 — 62% fake' })).toHaveClass('timeline__point--fake')
  })

  it("jumps to a face's most-fake frame from its thumbnail", async () => {
    const answer = videoPrediction()
    answer.tracks[1].frames[0].probability_fake = 0.3
    const { user } = await analyseClip(answer)
    await user.click(screen.getByRole('button', { name: /^Face 2/ }))
    expect(player().currentTime).toBe(0.5)
    await user.click(screen.getByRole('button', { name: /^Face 1/ }))
    expect(player().currentTime).toBe(1.5)
  })

  it("shows the heatmap on the deciding frame of a clip, and only there", async () => {
    const { user } = await analyseClip()
    await user.click(screen.getByRole('switch', { name: 'Show heatmap' }))
    expect(player().currentTime).toBe(1.5)
    expect(screen.getByRole('img', { name: 'Heatmap: regions that pushed toward fake' })).toHaveAttribute(
      'src',
      `data:image/png;base64,${TINY_PNG_B64}`,
    )
    expect(screen.getByText(/Regions that pushed toward fake.*\(frame at 0:01\.5\)/)).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: '0:00.5 — 62% fake' }))
    expect(screen.queryByRole('img', { name: /heatmap/i })).not.toBeInTheDocument()
  })

  it('says so when no face was found anywhere in the clip, and still draws the timeline', async () => {
    await analyseClip(
      videoPrediction({
        label: 'real',
        verdict: 'real',
        probability_fake: 0.2,
        face_detected: false,
        tracks: [],
        faces: [],
        timeline: [
          { t: 1, probability_fake: 0.2 },
          { t: 3, probability_fake: 0.1 },
        ],
        explanation: undefined,
      }),
    )
    expect(screen.getByText('No face found in the sampled frames — whole frames were analysed.')).toBeInTheDocument()
    expect(timelinePoints()).toHaveLength(2)
    expect(screen.queryByRole('region', { name: 'Faces in the clip' })).not.toBeInTheDocument()
    expect(facesOnScreen()).toHaveLength(0)
  })

  it('says beside the verdict when only part of the clip could be decoded, and charts only that part', async () => {
    const note = "Only the first 1.6 s of the clip's 4.0 s could be decoded (the file is truncated or damaged): the verdict and the timeline cover that part."
    await analyseClip(
      videoPrediction({
        decoded: { seconds: 1.6, of_seconds: 4.0, partial: true, note },
        timeline: [
          { t: 0.4, probability_fake: 0.62 },
          { t: 1.2, probability_fake: 0.81 },
        ],
      }),
    )
    const card = screen.getByRole('region', { name: /verdict/i })
    expect(within(card).getByRole('note')).toHaveTextContent(note)
    expect(screen.getByText(/talk\.mp4 · 4\.0 s · only 1\.6 s decoded · 1280×720/)).toBeInTheDocument()
    expect(timelinePoints()).toHaveLength(2)
  })

  it('has no partial note for a clip decoded to its end', async () => {
    await analyseClip()
    expect(within(screen.getByRole('region', { name: /verdict/i })).queryByRole('note')).not.toBeInTheDocument()
    expect(screen.queryByText(/decoded/)).not.toBeInTheDocument()
  })

  it('says a clip took too long when the server stopped it at its time budget, and offers a retry', async () => {
    const type = 'urn:deepfake-detector:problem:time-budget-exhausted'
    onPredict(() => problem(503, 'Analysis took too long', 'stopped after 90 s', { type, budget_s: 90 }))
    const user = await renderPage()
    await upload(user, clipFile())
    await user.click(screen.getByRole('button', { name: 'Analyze clip' }))
    expect(await screen.findByRole('alert')).toHaveTextContent(/took too long and was stopped.*shorter clip/)
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument()
  })

  it('still analyses a clip the browser cannot play', async () => {
    onPredict(() => HttpResponse.json(videoPrediction()))
    const user = await renderPage()
    await upload(user, clipFile('old.avi', 'video/x-msvideo'))
    fireEvent.error(player('old.avi'))
    expect(screen.getByText(/can't play this clip here/)).toBeInTheDocument()
    await user.click(screen.getByRole('button', { name: 'Analyze clip' }))
    expect(await screen.findByRole('heading', { name: 'Verdict: Fake' })).toBeInTheDocument()
    expect(timelinePoints()).toHaveLength(4)
  })

  it.each([
    [413, '', /larger than the 100\sMB limit for clips/],
    [415, '', /format or video codec isn't supported.*H\.264 MP4/],
    [422, 'video-too-long', /longer than the limit of 10\sminutes/],
    [422, 'undecodable-video', /couldn't be decoded/],
    [422, 'no-video-stream', /has no video in it/],
  ])('explains a %i %s problem for a clip in plain words', async (status, slug, text) => {
    const type = slug ? `urn:deepfake-detector:problem:${slug}` : 'about:blank'
    onPredict(() => problem(status, 'Problem', `server detail ${slug}`, { type }))
    const user = await renderPage()
    await upload(user, clipFile())
    await user.click(screen.getByRole('button', { name: 'Analyze clip' }))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent(text)
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument()
  })
})
