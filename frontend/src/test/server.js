import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'

export const MODELS = {
  default: 'mobilenet_v2-faces-gan',
  models: [
    {
      name: 'mobilenet_v2-faces-gan',
      architecture: 'mobilenet_v2',
      input_size: 160,
      threshold: 0.5,
      kinds: [],
      metrics: { accuracy: 0.97, auc: 0.99 },
      hash: '1a2b3c4d5e6f',
    },
    {
      name: 'efficientnet_b0-faces-gan',
      architecture: 'efficientnet_b0',
      input_size: 224,
      threshold: 0.5,
      kinds: ['gan', 'diffusion', 'swap'],
      metrics: { accuracy: 0.95, auc: 0.98 },
      hash: 'abcdef123456',
    },
  ],
}

// 1x1 transparent PNG.
export const TINY_PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='

export function prediction(overrides = {}) {
  return {
    media: 'image',
    label: 'real',
    verdict: 'real',
    probability_fake: 0.04,
    kind: null,
    kind_probabilities: null,
    threshold: 0.5,
    model: { name: 'mobilenet_v2-faces-gan', version: '1a2b3c4d5e6f' },
    face_detected: true,
    faces: [{ box: [100, 80, 200, 220], probability_fake: 0.04, label: 'real', verdict: 'real', deciding: true }],
    image: { width: 640, height: 480 },
    latency_ms: 45.2,
    explanation: { heatmap_png: TINY_PNG_B64, box: [100, 80, 200, 220], target: 'real', note: null },
    ...overrides,
  }
}

/** An image answer in the uncertain band: under the threshold (label still "real") but at least 0.7 x it. */
export function uncertainPrediction(overrides = {}) {
  return prediction({
    verdict: 'uncertain',
    probability_fake: 0.42,
    faces: [
      { box: [40, 60, 120, 140], probability_fake: 0.42, label: 'real', verdict: 'uncertain', deciding: true },
      { box: [400, 100, 100, 120], probability_fake: 0.1, label: 'real', verdict: 'real', deciding: false },
    ],
    explanation: { heatmap_png: TINY_PNG_B64, box: [40, 60, 120, 140], target: 'real', note: null },
    ...overrides,
  })
}

// A provenance answer as the server gives it for a C2PA-signed generated image (throwaway test signer).
export function provenance(overrides = {}) {
  return {
    verdict: 'generated',
    evidence: [
      {
        source: 'c2pa',
        field: 'c2pa.created',
        value: 'trainedAlgorithmicMedia by Fixture Diffusion 1.0',
        trust: 'untrusted',
        indicates: 'generated',
      },
    ],
    c2pa: {
      state: 'untrusted',
      reason: null,
      signer: 'Provenance Test Signer',
      issuer: 'Provenance Test Lab',
      signed_at: null,
      claim_generator: 'provenance-fixtures 1.0',
      failures: ['signingCredential.untrusted'],
    },
    notes: [],
    ...overrides,
  }
}

// jsdom never decodes images, so a thumbnail only has to be a distinct string.
export const THUMBNAIL_B64 = '/9j/thumbnail'

function track(id, probabilities, box) {
  const frames = probabilities.map((p, i) => ({ t: 0.5 + i, box: [box[0] + 4 * i, box[1], box[2], box[3]], probability_fake: p }))
  const probability_fake = Math.max(...probabilities)
  const label = probability_fake >= 0.5 ? 'fake' : 'real'
  const verdict = probability_fake >= 0.5 ? 'fake' : probability_fake >= 0.35 ? 'uncertain' : 'real'
  return { id, probability_fake, label, verdict, kind: null, kind_probabilities: null, thumbnail_jpeg: `${THUMBNAIL_B64}${id}`, frames }
}

/** A clip answer: 4 frames sampled from 4 s of 1280x720 video; face 1 in every frame, face 2 only in the first two. */
export function videoPrediction(overrides = {}) {
  const tracks = [track(1, [0.62, 0.81, 0.7, 0.55], [400, 120, 300, 300]), track(2, [0.1, 0.12], [900, 200, 160, 160])]
  const kind = { kind: 'swap', kind_probabilities: { gan: 0.05, diffusion: 0.1, swap: 0.85 } }
  Object.assign(tracks[0], kind) // the clip's kind is its deciding track's
  return prediction({
    media: 'video',
    label: 'fake',
    verdict: 'fake',
    probability_fake: 0.81,
    ...kind,
    latency_ms: 930.5,
    video: { duration_s: 4.0, fps: 25.0, width: 1280, height: 720, codec: 'h264', frames_sampled: 4 },
    decoded: { seconds: 4.0, of_seconds: 4.0, partial: false, note: null },
    tracks,
    timeline: tracks[0].frames.map(({ t, probability_fake }) => ({ t, probability_fake })),
    faces: [
      { box: tracks[0].frames[1].box, probability_fake: 0.81, label: 'fake', verdict: 'fake', deciding: true },
      { box: tracks[1].frames[1].box, probability_fake: 0.12, label: 'real', verdict: 'real', deciding: false },
    ],
    image: { width: 1280, height: 720 },
    explanation: { heatmap_png: TINY_PNG_B64, box: tracks[0].frames[1].box, target: 'fake', note: null, t: 1.5 },
    ...overrides,
  })
}

export function problem(status, title, detail, extra = {}) {
  return HttpResponse.json(
    { type: 'about:blank', title, status, detail, ...extra },
    { status, headers: { 'Content-Type': 'application/problem+json' } },
  )
}

export const handlers = [
  http.get('*/api/models', () => HttpResponse.json(MODELS)),
  http.post('*/api/predict', () => HttpResponse.json(prediction())),
]

export const server = setupServer(...handlers)
