import { verdictOf } from './api.js'

// One row per chosen file: its verdict, or why it has none.
// kind_probability_<kind> columns as the predict command and the scan write them (empty without a kind).
const KINDS = ['gan', 'diffusion', 'swap']
export const CSV_COLUMNS = [
  'file',
  'media',
  'label',
  'verdict',
  'probability_fake',
  'kind',
  ...KINDS.map((kind) => `kind_probability_${kind}`),
  'face_detected',
  'faces_or_tracks',
  'model',
  'error',
]

function row(entry) {
  const { file, result, error } = entry
  if (!result) return { file: file.name, media: entry.media || '', error: error?.message || 'Not analysed.' }
  const media = result.media || entry.media
  return {
    file: file.name,
    media,
    label: result.label,
    verdict: verdictOf(result),
    probability_fake: result.probability_fake,
    kind: result.kind,
    ...Object.fromEntries(KINDS.map((kind) => [`kind_probability_${kind}`, result.kind_probabilities?.[kind]])),
    face_detected: result.face_detected,
    faces_or_tracks: (media === 'video' ? result.tracks : result.faces)?.length ?? 0,
    model: result.model?.name,
  }
}

function cell(value) {
  const text = value === undefined || value === null ? '' : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** RFC 4180 CSV (CRLF line ends) of every entry's verdict. */
export default function verdictsCsv(entries) {
  const lines = [CSV_COLUMNS, ...entries.map((entry) => CSV_COLUMNS.map((column) => row(entry)[column]))]
  return lines.map((fields) => fields.map(cell).join(',')).join('\r\n') + '\r\n'
}
