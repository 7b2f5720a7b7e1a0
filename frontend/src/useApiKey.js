import { useCallback, useEffect, useState } from 'react'
import { getApiKey, onAuthRequired, setApiKey } from './api.js'

/** The API key state: required once the server has answered 401 (or a key is already kept), and save(). */
export default function useApiKey() {
  const [key, setKey] = useState(getApiKey)
  const [required, setRequired] = useState(() => Boolean(getApiKey()))
  useEffect(() => onAuthRequired(() => setRequired(true)), [])
  const save = useCallback((value) => {
    setApiKey(value.trim())
    setKey(value.trim())
  }, [])
  return { key, required, save }
}
