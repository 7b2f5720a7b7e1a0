#!/usr/bin/env node
// Browser test of the whole app: real backend (gunicorn), real build, Debian's Chromium.
//
//   npm run test:e2e                  # from the repo root: builds frontend/dist, then runs this
//   E2E_MODE=dev node tests/e2e/run.mjs   # Vite dev server (5173) proxying to gunicorn (5000), as docker-compose does
//
// Default mode "prod": gunicorn serves frontend/dist at / and the API at /api/* on one free port.
// A second gunicorn (any mode) serves frontend/dist with a test model whose kind of fake is known in advance
// (tests/kind_model.py: the dominant colour channel decides), so the kind sentences do not depend on the bundled model;
// its strict twin (kinds_strict) puts every image in the uncertain band.
// Environment: CHROMIUM (default /usr/bin/chromium), E2E_PHOTO (a face photo), E2E_CLIP (a clip), E2E_TIMEOUT_MS.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '..', '..')
const frontendDir = path.join(repoRoot, 'frontend')
const artifacts = path.join(here, 'artifacts')
const commands = JSON.parse(readFileSync(path.join(here, 'commands.json'), 'utf8'))
// playwright-core is a dev dependency of the frontend package.
const { chromium } = createRequire(path.join(frontendDir, 'package.json'))('playwright-core')

const MODE = process.env.E2E_MODE === 'dev' ? 'dev' : 'prod'
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const STEP_TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 90_000)
const PHOTO =
  process.env.E2E_PHOTO || path.resolve(repoRoot, '..', 'shared', 'data', 'photos', 'real', 'deepface_tests__img1.jpg')
const CLIP =
  process.env.E2E_CLIP || path.resolve(repoRoot, '..', 'shared', 'data', 'videos', 'real', 'lp_d0.mp4')
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
]

const children = []
let passed = 0
let failed = 0

function log(...args) {
  console.log('[e2e]', ...args)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Start a long-running process in its own process group; its output goes to artifacts/<name>.log. */
function start(name, cmd, args, options) {
  log(`starting ${name}: ${cmd} ${args.join(' ')}`)
  const out = createWriteStream(path.join(artifacts, `${name}.log`))
  const child = spawn(cmd, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.pipe(out)
  child.stderr.pipe(out)
  child.on('exit', (code, signal) => {
    child.exited = true
    if (!child.stopping) log(`${name} exited early (code ${code}, signal ${signal}); see tests/e2e/artifacts/${name}.log`)
  })
  children.push(child)
  return child
}

/** SIGTERM each process group we started, wait for it, then SIGKILL what is left. */
async function stopAll(graceMs = 10_000) {
  const signal = (child, sig) => {
    try {
      process.kill(-child.pid, sig)
    } catch {
      /* already gone */
    }
  }
  const running = children.filter((c) => !c.exited)
  for (const child of running) {
    child.stopping = true
    signal(child, 'SIGTERM')
  }
  const deadline = Date.now() + graceMs
  while (running.some((c) => !c.exited) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200))
  }
  for (const child of running) signal(child, 'SIGKILL') // also reaps stray workers of the group
}

async function waitForHttp(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  let lastError = ''
  while (Date.now() < deadline) {
    if (child?.exited) throw new Error(`process for ${url} exited before it answered`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) })
      if (res.ok) return
      lastError = `HTTP ${res.status}`
    } catch (err) {
      lastError = err.message
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${lastError})`)
}

async function startServers() {
  const gunicorn = path.join(repoRoot, '.venv', 'bin', 'gunicorn')
  if (!existsSync(gunicorn)) throw new Error(`${gunicorn} not found: create the Python venv first`)
  if (!existsSync(path.join(repoRoot, 'backend', '__init__.py'))) throw new Error('backend/ is missing')
  const [, ...gunicornArgs] = commands.backend.command.split(/\s+/) // drop the "gunicorn" word
  const env = { ...process.env, PYTHONUNBUFFERED: '1' }

  if (MODE === 'prod') {
    if (!existsSync(path.join(frontendDir, 'dist', 'index.html'))) {
      throw new Error('frontend/dist is missing: run `npm run build` first (npm run test:e2e does)')
    }
    const port = await freePort()
    const backend = start('backend', gunicorn, [...gunicornArgs, '-b', `127.0.0.1:${port}`, commands.backend.app], {
      cwd: repoRoot,
      env,
    })
    const base = `http://127.0.0.1:${port}`
    await waitForHttp(`${base}${commands.backend.api_health_path}`, backend, 180_000)
    return base
  }

  // dev mode: the same ports and command lines as docker-compose.yml, on the loopback interface.
  const bport = commands.backend.port
  const backend = start('backend', gunicorn, [...gunicornArgs, '-b', `127.0.0.1:${bport}`, commands.backend.app], {
    cwd: repoRoot,
    env,
  })
  await waitForHttp(`http://127.0.0.1:${bport}${commands.backend.api_health_path}`, backend, 180_000)
  const fport = commands.frontend.port
  const [npm, ...npmArgs] = commands.frontend.command.split(/\s+/)
  const vite = start('frontend', npm, [...npmArgs, '--host', '127.0.0.1', '--port', String(fport)], {
    cwd: frontendDir,
    env: { ...env, [commands.frontend.api_target_env]: `http://127.0.0.1:${bport}` },
  })
  const base = `http://127.0.0.1:${fport}`
  await waitForHttp(`${base}/`, vite, 60_000)
  await waitForHttp(`${base}${commands.backend.api_health_path}`, vite, 30_000) // through the proxy
  return base
}

/** gunicorn on a free port serving frontend/dist and tests/kind_model.py's checkpoint; returns its URL and images. */
async function startKindServer() {
  if (!existsSync(path.join(frontendDir, 'dist', 'index.html'))) {
    throw new Error('frontend/dist is missing: run `npm run build` first (npm run test:e2e does)')
  }
  const folder = scratchFolder('e2e-kinds-')
  const images = path.join(folder, 'images')
  const made = spawnSync(path.join(repoRoot, '.venv', 'bin', 'python'), ['-m', 'tests.kind_model', folder, '--images', images], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
  if (made.status !== 0) throw new Error(`tests.kind_model failed: ${made.stderr}`)
  const [, ...gunicornArgs] = commands.backend.command.split(/\s+/)
  const port = await freePort()
  const env = { ...process.env, PYTHONUNBUFFERED: '1', FLASK_MODEL_DIR: folder, WEB_CONCURRENCY: '1' }
  const server = start('backend-kinds', path.join(repoRoot, '.venv', 'bin', 'gunicorn'),
    [...gunicornArgs, '-b', `127.0.0.1:${port}`, commands.backend.app], { cwd: repoRoot, env })
  const base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}${commands.backend.api_health_path}`, server, 180_000)
  return { base, images }
}

/** The most frequent colour [r, g, b] of an element as the browser drew it (its screenshot, decoded in the page). */
async function dominantColour(page, locator) {
  const png = (await locator.screenshot()).toString('base64')
  return page.evaluate(async (data) => {
    const image = new Image()
    image.src = `data:image/png;base64,${data}`
    await image.decode()
    const canvas = document.createElement('canvas')
    canvas.width = image.width
    canvas.height = image.height
    const context = canvas.getContext('2d')
    context.drawImage(image, 0, 0)
    const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data
    const counts = new Map()
    for (let i = 0; i < pixels.length; i += 4) {
      const key = `${pixels[i]},${pixels[i + 1]},${pixels[i + 2]}`
      counts.set(key, (counts.get(key) || 0) + 1)
    }
    const [top] = [...counts].sort((a, b) => b[1] - a[1])
    return top[0].split(',').map(Number)
  }, png)
}

async function test(name, fn) {
  const started = Date.now()
  try {
    await fn()
    passed += 1
    log(`PASS ${name} (${Date.now() - started} ms)`)
  } catch (err) {
    failed += 1
    log(`FAIL ${name}: ${err?.stack || err}`)
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message)
}

/** A face photo from the shared data set, else a PNG drawn by the browser itself. */
async function testImage(page) {
  if (existsSync(PHOTO)) {
    return { file: PHOTO, generated: false }
  }
  log(`no photo at ${PHOTO}; drawing an image in the browser instead`)
  const dataUrl = await page.evaluate(() => {
    const c = document.createElement('canvas')
    c.width = 320
    c.height = 320
    const g = c.getContext('2d')
    g.fillStyle = '#9fb8d0'
    g.fillRect(0, 0, 320, 320)
    g.fillStyle = '#e8c3a0'
    g.beginPath()
    g.ellipse(160, 165, 80, 105, 0, 0, Math.PI * 2)
    g.fill()
    g.fillStyle = '#2b2b2b'
    for (const x of [130, 190]) {
      g.beginPath()
      g.arc(x, 140, 9, 0, Math.PI * 2)
      g.fill()
    }
    g.fillRect(135, 215, 50, 8)
    return c.toDataURL('image/png')
  })
  const buffer = Buffer.from(dataUrl.split(',')[1], 'base64')
  return { file: { name: 'generated-face.png', mimeType: 'image/png', buffer }, generated: true }
}

// Seconds (two unless said) of 320x240 H.264 with a drifting face-coloured oval, written by PyAV (in
// requirements.txt), its index first (faststart) so that a copy cut short still says how long the clip was meant to be.
const MAKE_CLIP_PY = `
import sys, av, numpy as np
out = av.open(sys.argv[1], 'w', options={'movflags': 'faststart'})
stream = out.add_stream('h264', rate=10)
stream.width, stream.height, stream.pix_fmt = 320, 240, 'yuv420p'
yy, xx = np.mgrid[0:240, 0:320]
for i in range(int(10 * float(sys.argv[2]))):
    frame = np.full((240, 320, 3), (159, 184, 208), dtype=np.uint8)
    frame[((xx - 140 - 2 * i) / 60) ** 2 + ((yy - 120) / 80) ** 2 < 1] = (232, 195, 160)
    for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')):
        out.mux(packet)
for packet in stream.encode():
    out.mux(packet)
out.close()
`

/** A real talking-head clip from the shared data set, else a short clip made with PyAV in the project's venv. */
function testClip() {
  if (existsSync(CLIP)) return CLIP
  log(`no clip at ${CLIP}; making one with PyAV`)
  return generatedClip(2)
}

const scratchFolders = []

/** A new temporary folder, removed when the run ends (after the servers that read it have stopped). */
function scratchFolder(prefix) {
  const folder = mkdtempSync(path.join(tmpdir(), prefix))
  scratchFolders.push(folder)
  return folder
}

function generatedClip(seconds) {
  const file = path.join(scratchFolder('e2e-clip-'), 'generated.mp4')
  execFileSync(path.join(repoRoot, '.venv', 'bin', 'python'), ['-c', MAKE_CLIP_PY, file, String(seconds)], {
    stdio: 'inherit',
  })
  return file
}

/** The first half of a generated 6 s clip (its bytes: under a second of pictures), as an interrupted copy leaves it. */
function truncatedClip() {
  const whole = readFileSync(generatedClip(6))
  return { name: 'cut-short.mp4', mimeType: 'video/mp4', buffer: whole.subarray(0, Math.floor(whole.length / 2)) }
}

/** "1:03.2 — 81% fake" → 63.2 */
function secondsOf(pointName) {
  const [, minutes, seconds] = pointName.match(/^(\d+):(\d+(?:\.\d+)?)/)
  return Number(minutes) * 60 + Number(seconds)
}

async function main() {
  mkdirSync(artifacts, { recursive: true })
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`)
  const [base, kinds] = await Promise.all([startServers(), startKindServer()])
  log(`app at ${base} (${MODE} mode); kind test model at ${kinds.base}`)

  const userDataDir = scratchFolder('e2e-chromium-')
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  })
  context.setDefaultTimeout(STEP_TIMEOUT)
  const pageErrors = []
  context.on('weberror', (e) => pageErrors.push(String(e.error())))

  try {
    await test('a face photo gets a verdict with a probability and face boxes', async () => {
      const page = await context.newPage()
      await page.goto(base)
      await page.getByRole('heading', { name: 'Deepfake Detector' }).waitFor()
      const image = await testImage(page)
      await page.getByLabel('Image files or video clips').setInputFiles(image.file)
      await page.getByRole('img', { name: /preview of/i }).waitFor()
      await page.getByRole('button', { name: 'Analyze image' }).click()
      const heading = page.getByRole('heading', { name: /verdict: (real|uncertain|fake)/i })
      await heading.or(page.getByRole('alert')).first().waitFor()
      if (await page.getByRole('alert').isVisible()) {
        throw new Error(`server answered with an error: ${await page.getByRole('alert').innerText()}`)
      }
      const meter = page.getByRole('meter', { name: 'Probability of fake' })
      const value = Number(await meter.getAttribute('aria-valuenow'))
      assert(value >= 0 && value <= 100, `probability out of range: ${value}`)
      const words = await page.getByRole('region', { name: /verdict/i }).innerText()
      assert(/\d+% probability of fake/.test(words), `no probability in the verdict: ${words}`)
      const faces = page.getByRole('list', { name: 'Detected faces' }).getByRole('listitem')
      const count = await faces.count()
      if (image.generated) {
        assert(count > 0 || /No face found/.test(words), 'neither face boxes nor "No face found"')
      } else {
        assert(count >= 1, 'no face box drawn on a real face photo')
        const box = await faces.first().boundingBox()
        assert(box && box.width > 4 && box.height > 4, `face box has no size: ${JSON.stringify(box)}`)
      }
      const toggle = page.getByRole('switch', { name: 'Show heatmap' })
      if (await toggle.count()) {
        await toggle.check({ force: true })
        // A map, or (when no region pushed toward the verdict) the server's note in words.
        await page.getByRole('img', { name: /heatmap/i }).or(page.getByRole('note')).first().waitFor()
      }
      log(`verdict: ${(await heading.innerText()).replace(/\s+/g, ' ')}, p(fake)=${value}%, faces=${count}`)
      await page.screenshot({ path: path.join(artifacts, '1-verdict.png'), fullPage: true })
      await page.close()
    })

    await test('a C2PA-signed generated image shows its content credentials', async () => {
      const signed = path.join(artifacts, 'signed-generated.jpg')
      const made = spawnSync(path.join(repoRoot, '.venv', 'bin', 'python'), ['-m', 'tests.provenance_fixtures', signed], {
        cwd: repoRoot,
        encoding: 'utf8',
      })
      assert(made.status === 0, `the fixture command failed: ${made.stderr}`)
      const page = await context.newPage()
      await page.goto(base)
      await page.getByLabel('Image files or video clips').setInputFiles(signed)
      await page.getByRole('button', { name: 'Analyze image' }).click()
      const panel = page.getByRole('region', { name: 'Content credentials' })
      await panel.or(page.getByRole('alert')).first().waitFor()
      const words = await panel.innerText()
      assert(/generative AI tool/.test(words), `no generated claim: ${words}`)
      assert(/Signed by Provenance Test Signer/.test(words), `no signer: ${words}`)
      assert(/not on the trust list/.test(words), `untrusted signer not said: ${words}`)
      assert(/stripped or forged/.test(words), `no caveat: ${words}`)
      await panel.scrollIntoViewIfNeeded()
      await page.screenshot({ path: path.join(artifacts, '4-credentials.png'), fullPage: true })
      await page.close()
    })

    await test('a text file renamed .jpg gets a clear error message', async () => {
      const page = await context.newPage()
      await page.goto(base)
      await page.getByLabel('Image files or video clips').setInputFiles({
        name: 'not-an-image.jpg',
        mimeType: 'image/jpeg',
        buffer: Buffer.from('This is plain text, not a JPEG.\n'.repeat(20)),
      })
      await page.getByRole('button', { name: 'Analyze image' }).click()
      const alert = page.getByRole('alert')
      await alert.waitFor()
      const text = await alert.innerText()
      assert(/isn't supported|couldn't be analysed/i.test(text), `unexpected message: ${text}`)
      assert(!(await page.getByRole('heading', { name: /verdict/i }).count()), 'a verdict was shown for a text file')
      await page.screenshot({ path: path.join(artifacts, '2-error.png'), fullPage: true })
      await page.close()
    })

    await test('at 360 px width the drop zone is shown and nothing scrolls sideways', async () => {
      const page = await context.newPage()
      await page.setViewportSize({ width: 360, height: 740 })
      await page.goto(base)
      const zone = page.getByRole('button', { name: /choose an image or a clip to analyze/i })
      await zone.waitFor()
      const box = await zone.boundingBox()
      assert(box && box.x >= 0 && box.x + box.width <= 360, `drop zone outside the viewport: ${JSON.stringify(box)}`)
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth)
      assert(scrollWidth <= 360, `page is ${scrollWidth}px wide at a 360px viewport`)
      await page.screenshot({ path: path.join(artifacts, '3-phone.png'), fullPage: true })
      await page.close()
    })

    // ---- Clips (issue 10): needs a backend that answers POST /api/predict with media "video". ----
    await test('a clip gets a verdict and a timeline whose points seek the player', async () => {
      const page = await context.newPage()
      await page.goto(base)
      await page.getByLabel('Image files or video clips').setInputFiles(testClip())
      const player = page.getByLabel(/^Clip /)
      await player.or(page.getByText(/can't play this clip here/)).first().waitFor()
      await page.getByRole('button', { name: 'Analyze clip' }).click()
      const heading = page.getByRole('heading', { name: /verdict: (real|uncertain|fake)/i })
      await heading.or(page.getByRole('alert')).first().waitFor()
      if (await page.getByRole('alert').isVisible()) {
        throw new Error(`server answered with an error: ${await page.getByRole('alert').innerText()}`)
      }
      const value = Number(await page.getByRole('meter', { name: 'Probability of fake' }).getAttribute('aria-valuenow'))
      assert(value >= 0 && value <= 100, `probability out of range: ${value}`)
      const points = page.getByRole('group', { name: /probability of fake over time/i }).getByRole('button')
      const count = await points.count()
      assert(count >= 1, 'no point on the timeline')
      const point = points.nth(Math.floor(count / 2))
      const name = await point.getAttribute('aria-label')
      await point.click()
      if (await player.count()) {
        const time = await player.evaluate((video) => video.currentTime)
        assert(Math.abs(time - secondsOf(name)) < 0.2, `clicking "${name}" left the player at ${time} s`)
      }
      const tracks = await page.getByRole('region', { name: 'Faces in the clip' }).getByRole('button').count()
      log(`clip verdict: ${(await heading.innerText()).replace(/\s+/g, ' ')}, p(fake)=${value}%, points=${count}, tracks=${tracks}`)
      await page.screenshot({ path: path.join(artifacts, '5-clip.png'), fullPage: true })
      await page.close()
    })

    await test('a clip cut short says beside its verdict how much of it was decoded', async () => {
      const page = await context.newPage()
      await page.goto(base)
      await page.getByLabel('Image files or video clips').setInputFiles(truncatedClip())
      await page.getByRole('button', { name: 'Analyze clip' }).click()
      const card = page.getByRole('region', { name: /verdict: (real|uncertain|fake)/i })
      await card.or(page.getByRole('alert')).first().waitFor()
      if (await page.getByRole('alert').isVisible()) {
        throw new Error(`server answered with an error: ${await page.getByRole('alert').innerText()}`)
      }
      const note = await card.getByRole('note').innerText()
      assert(/^Only the first \d+\.\d s of the clip's 6\.0 s could be decoded/.test(note), `partial note: ${note}`)
      log(`cut-short clip: ${note}`)
      await page.screenshot({ path: path.join(artifacts, '5b-clip-cut-short.png'), fullPage: true })
      await page.close()
    })

    await test('several files at once: a list of verdicts to click through and a CSV of them all', async () => {
      const page = await context.newPage()
      await page.goto(base)
      const image = await testImage(page)
      const note = { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a picture at all') }
      // Playwright takes either paths or buffers, not both: send all three as buffers.
      const asBuffer = (file, mimeType) =>
        typeof file === 'string' ? { name: path.basename(file), mimeType, buffer: readFileSync(file) } : file
      const files = [asBuffer(image.file, 'image/jpeg'), asBuffer(testClip(), 'video/mp4'), note]
      await page.getByLabel('Image files or video clips').setInputFiles(files)
      await page.getByRole('button', { name: 'Analyze 3 files' }).click()
      const list = page.getByRole('region', { name: /results \(3 files\)/i })
      const csvButton = list.getByRole('button', { name: 'Download CSV' })
      await page.waitForFunction(
        () => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Download CSV' && !b.disabled),
      )
      const rows = await list.getByRole('listitem').allInnerTexts()
      assert(rows.length === 3, `expected 3 rows, got ${rows.length}`)
      assert(/Clip · (Real|Uncertain|Fake)/.test(rows[1]), `clip row: ${rows[1]}`)
      await list.getByRole('button', { name: /notes\.jpg/ }).click()
      await page.getByRole('alert').waitFor()
      await list.getByRole('button', { name: /\.mp4/ }).click()
      await page.getByRole('group', { name: /probability of fake over time/i }).waitFor()
      const [download] = await Promise.all([page.waitForEvent('download'), csvButton.click()])
      const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/)
      assert(csv[0].startsWith('file,media,label,verdict,probability_fake'), `CSV header: ${csv[0]}`)
      assert(csv.length === 4 && /,video,(real|fake),(real|uncertain|fake),/.test(csv[2]) && csv[3].includes('notes.jpg'), csv.join(' / '))
      log(`batch: ${rows.map((r) => r.replace(/\s+/g, ' ')).join(' | ')}`)
      await page.screenshot({ path: path.join(artifacts, '6-batch.png'), fullPage: true })
      await page.close()
    })

    await test('a GAN face, a diffusion portrait and a swap crop get three different kind sentences', async () => {
      const expected = {
        'gan-face.png': /fully generated, most likely by a GAN/,
        'diffusion-portrait.png': /fully generated, most likely by a diffusion model/,
        'swap-crop.png': /face swapped onto a real photo or video/,
      }
      const sentences = []
      for (const [name, words] of Object.entries(expected)) {
        const page = await context.newPage()
        await page.goto(kinds.base)
        const file = path.join(kinds.images, `${name.split('-')[0]}.png`)
        await page.getByLabel('Image files or video clips').setInputFiles({
          name,
          mimeType: 'image/png',
          buffer: readFileSync(file),
        })
        await page.getByRole('button', { name: 'Analyze image' }).click()
        const heading = page.getByRole('heading', { name: /verdict: fake/i })
        await heading.or(page.getByRole('alert')).first().waitFor()
        if (await page.getByRole('alert').isVisible()) {
          throw new Error(`server answered with an error: ${await page.getByRole('alert').innerText()}`)
        }
        const guess = page.getByRole('region', { name: /verdict/i }).getByRole('group', { name: 'Kind of fake' })
        const sentence = (await guess.locator('p').first().innerText()).trim()
        assert(words.test(sentence), `${name}: unexpected sentence "${sentence}"`)
        assert(/guess, not proof/.test(sentence), `${name}: no hedge in "${sentence}"`)
        await guess.getByText('How sure is this guess?').click()
        const shares = await guess.getByRole('list', { name: 'Kind probabilities' }).getByRole('listitem').allInnerTexts()
        assert(shares.length === 3, `${name}: kind probabilities ${shares.join(' / ')}`)
        sentences.push(sentence)
        await page.screenshot({ path: path.join(artifacts, `7-kind-${name}`), fullPage: true })
        await page.close()
      }
      assert(new Set(sentences).size === 3, `sentences not all different: ${sentences.join(' | ')}`)
      log(`kinds: ${sentences.join(' | ')}`)
    })

    await test('a score under the threshold but in the uncertain band is headed Uncertain, in amber', async () => {
      const page = await context.newPage()
      await page.goto(kinds.base)
      await page.locator('#model-select option[value="kinds_strict"]').waitFor({ state: 'attached' })
      await page.getByLabel('Model').selectOption('kinds_strict')
      await page.getByLabel('Image files or video clips').setInputFiles({
        name: 'gan-face.png',
        mimeType: 'image/png',
        buffer: readFileSync(path.join(kinds.images, 'gan.png')),
      })
      await page.getByRole('button', { name: 'Analyze image' }).click()
      const card = page.getByRole('region', { name: /verdict: uncertain/i })
      await card.or(page.getByRole('alert')).first().waitFor()
      if (await page.getByRole('alert').isVisible()) {
        throw new Error(`server answered with an error: ${await page.getByRole('alert').innerText()}`)
      }
      const words = await card.innerText()
      assert(/a person should look/.test(words), `no review sentence in the card: ${words}`)
      const badge = await dominantColour(page, card.locator('.verdict__badge'))
      const amber = [0xc2, 0x7c, 0x00] // --uncertain in frontend/src/index.css
      assert(badge.every((value, i) => Math.abs(value - amber[i]) <= 12), `badge drawn in rgb(${badge}), not amber`)
      log(`uncertain: ${words.split('\n').slice(0, 2).join(' / ')}; badge rgb(${badge})`)
      await page.screenshot({ path: path.join(artifacts, '8-uncertain.png'), fullPage: true })
      await page.close()
    })

    if (pageErrors.length) log(`page errors: ${pageErrors.join(' | ')}`)
  } finally {
    await context.close().catch(() => {})
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await stopAll(3000)
    process.exit(130)
  })
}

let exitCode = 0
try {
  await main()
} catch (err) {
  log(`setup failed: ${err?.stack || err}`)
  failed += 1
  exitCode = 1
} finally {
  await stopAll()
  for (const folder of scratchFolders) rmSync(folder, { recursive: true, force: true })
}
writeFileSync(path.join(artifacts, 'summary.txt'), `E2E: ${passed} passed, ${failed} failed\n`)
console.log(`E2E: ${passed} passed, ${failed} failed`)
process.exit(failed || exitCode ? 1 : 0)
