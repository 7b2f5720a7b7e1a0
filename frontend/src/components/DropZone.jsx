import { forwardRef } from 'react'
import { useDropzone } from 'react-dropzone'
import { ACCEPTED_TYPES, ACCEPTED_TYPE_TEXT, MAX_UPLOAD_BYTES, formatMegabytes } from '../api.js'

/**
 * Drop an image, click / press Enter to open the file dialog, or paste (handled by the page).
 * Type and size are checked by the page so every rejection gets the same clear message.
 */
const DropZone = forwardRef(function DropZone({ onFile, disabled = false }, ref) {
  const { getRootProps, getInputProps, isDragActive } = useDropzone({
    multiple: false,
    disabled,
    // No `accept`/`maxSize` here: rejected files must reach onFile so we can explain why.
    onDrop: (accepted, rejected) => {
      const file = accepted[0] || rejected[0]?.file
      if (file) onFile(file)
    },
  })

  return (
    <div
      {...getRootProps({
        ref,
        className: `dropzone${isDragActive ? ' dropzone--active' : ''}`,
        role: 'button',
        'aria-label': 'Choose an image to analyze: drop it here, press Enter to browse, or paste it',
        'aria-describedby': 'dropzone-hint',
      })}
    >
      <input {...getInputProps({ accept: ACCEPTED_TYPES.join(','), 'aria-label': 'Image file' })} />
      <svg className="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" />
      </svg>
      <p className="dropzone__title">{isDragActive ? 'Drop the image here' : 'Drop an image here, or click to choose one'}</p>
      <p className="dropzone__hint" id="dropzone-hint">
        {ACCEPTED_TYPE_TEXT}, up to {formatMegabytes(MAX_UPLOAD_BYTES)}. You can also paste an image with Ctrl+V.
      </p>
    </div>
  )
})

export default DropZone
