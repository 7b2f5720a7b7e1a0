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
      metrics: { accuracy: 0.97, auc: 0.99 },
      hash: '1a2b3c4d5e6f',
    },
    {
      name: 'efficientnet_b0-faces-gan',
      architecture: 'efficientnet_b0',
      input_size: 224,
      threshold: 0.5,
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
    label: 'real',
    probability_fake: 0.04,
    threshold: 0.5,
    model: { name: 'mobilenet_v2-faces-gan', version: '1a2b3c4d5e6f' },
    face_detected: true,
    faces: [{ box: [100, 80, 200, 220], probability_fake: 0.04, label: 'real', deciding: true }],
    image: { width: 640, height: 480 },
    latency_ms: 45.2,
    explanation: { heatmap_png: TINY_PNG_B64, box: [100, 80, 200, 220] },
    ...overrides,
  }
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
