import { useState } from 'react'
import useApiKey from '../useApiKey.js'

/** A field for the API key, shown only when the server asks for one (a 401 answer). */
export default function ApiKeyField() {
  const { key, required, save } = useApiKey()
  const [draft, setDraft] = useState(key)
  const [saved, setSaved] = useState(false)
  if (!required) return null

  function onSubmit(event) {
    event.preventDefault()
    save(draft)
    setSaved(true)
  }

  return (
    <form className="field" onSubmit={onSubmit}>
      <label htmlFor="api-key">API key</label>
      <input
        id="api-key"
        type="password"
        autoComplete="off"
        value={draft}
        onChange={(event) => {
          setDraft(event.target.value)
          setSaved(false)
        }}
        aria-describedby="api-key-hint"
      />
      <button type="submit" disabled={!draft.trim()}>
        Use key
      </button>
      <p id="api-key-hint" className="field__hint" role="status">
        {saved ? 'Key saved for this tab.' : 'This server asks for an API key. It is kept in this tab only.'}
      </p>
    </form>
  )
}
