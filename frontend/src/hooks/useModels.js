import { useEffect, useState } from 'react'
import { fetchModels } from '../api.js'

/** The server's models and the chosen one, filled once from GET /api/models. */
export default function useModels() {
  const [models, setModels] = useState([])
  const [loading, setLoading] = useState(true)
  const [model, setModel] = useState('')

  useEffect(() => {
    const controller = new AbortController()
    fetchModels({ signal: controller.signal })
      .then((data) => {
        const list = Array.isArray(data?.models) ? data.models : []
        setModels(list)
        setModel(data?.default || list[0]?.name || '')
      })
      .catch(() => {
        // Without the list the server's default model is used; a failed analysis reports problems.
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false)
      })
    return () => controller.abort()
  }, [])

  return { models, loading, model, setModel }
}
