import { useEffect } from 'react'

/** Ctrl+V / Cmd+V anywhere on the page hands the pasted files to `onFiles` (unless `enabled` is false). */
export default function usePastedFiles(onFiles, enabled = true) {
  useEffect(() => {
    if (!enabled) return undefined
    function onPaste(event) {
      const items = Array.from(event.clipboardData?.items || [])
      const fromItems = items.filter((it) => it.kind === 'file').map((it) => it.getAsFile())
      const files = (fromItems.length ? fromItems : Array.from(event.clipboardData?.files || [])).filter(Boolean)
      if (!files.length) return
      event.preventDefault()
      onFiles(files)
    }
    document.addEventListener('paste', onPaste)
    return () => document.removeEventListener('paste', onPaste)
  }, [onFiles, enabled])
}
