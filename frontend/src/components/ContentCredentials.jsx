const VERDICT_WORDS = {
  generated: 'The file says it was made, at least in part, by a generative AI tool.',
  edited: 'The file says it was edited after it was made.',
  camera: 'The file says it was captured by a camera.',
  unknown: "The file's metadata doesn't say how it was made.",
}

const SOURCE_NAMES = { c2pa: 'C2PA', xmp: 'XMP', exif: 'EXIF', 'png-text': 'PNG text' }

const TRUST_WORDS = {
  valid: 'signed, signature holds',
  untrusted: 'signed by a signer that is not trusted',
  invalid: 'signature broken',
  unsigned: 'not signed',
}

function signerName({ signer, issuer }) {
  if (!signer) return 'an unnamed signer'
  return issuer && issuer !== signer ? `${signer} (${issuer})` : signer
}

/** The C2PA signature in plain words, or null when the file has no Content Credentials. */
function signatureSentence(c2pa) {
  if (!c2pa) return null
  const who = signerName(c2pa)
  switch (c2pa.state) {
    case 'valid':
      return `Signed by ${who}. The signature holds and the signer is trusted.`
    case 'untrusted':
      return `Signed by ${who}. The signature holds, but the signer is not on the trust list, so it does not prove who made the file.`
    case 'tampered':
      return `Signed by ${who}, but the signature no longer holds: the file was changed after it was signed.`
    case 'invalid':
      return `The file carries Content Credentials that could not be verified${c2pa.reason ? ` (${c2pa.reason})` : ''}.`
    case 'skipped':
      return `The file carries Content Credentials that were not checked${c2pa.reason ? ` (${c2pa.reason})` : ''}.`
    default:
      return null
  }
}

/** What the file's own metadata says about its origin, beside the model's verdict; nothing when nothing was found. */
export default function ContentCredentials({ provenance }) {
  const evidence = provenance?.evidence || []
  const signature = signatureSentence(provenance?.c2pa)
  if (!provenance || (!evidence.length && !signature)) return null
  return (
    <section className="credentials" aria-labelledby="credentials-heading">
      <h3 id="credentials-heading" className="credentials__heading">
        Content credentials
      </h3>
      <p className="credentials__summary">{VERDICT_WORDS[provenance.verdict] || VERDICT_WORDS.unknown}</p>
      {signature && <p className="credentials__signature">{signature}</p>}
      {evidence.length > 0 && (
        <ul className="credentials__evidence" aria-label="Metadata found">
          {evidence.map((item, i) => (
            <li key={`${item.source}-${item.field}-${i}`}>
              <span className="credentials__source">{SOURCE_NAMES[item.source] || item.source}</span> {item.field}
              {item.value && `: ${item.value}`} <span className="muted">({TRUST_WORDS[item.trust] || item.trust})</span>
            </li>
          ))}
        </ul>
      )}
      <p className="credentials__caveat">
        Metadata can be stripped or forged: it never changes the model's score, and its absence proves nothing.
      </p>
    </section>
  )
}
