import { forwardRef } from 'react'
import { useDropzone } from 'react-dropzone'
import {
  ACCEPTED_TYPE_TEXT,
  ACCEPTED_VIDEO_TYPE_TEXT,
  ACCEPT_ATTRIBUTE,
  DURATION_LIMIT_TEXT,
  MAX_UPLOAD_BYTES,
  MAX_VIDEO_UPLOAD_BYTES,
  formatMegabytes,
} from '../api.js'

/**
 * Drop images and clips, click / press Enter to open the file dialog, or paste (handled by the page).
 * Type and size are checked by the page so every rejection gets the same clear message.
 */
const DropZone = forwardRef(function DropZone({ onFiles, disabled = false }, ref) {
  const { getRootProps, getInputProps, isDragActive } = useDropzone({
    multiple: true,
    disabled,
    // No `accept`/`maxSize` here: rejected files must reach onFiles so we can explain why.
    onDrop: (accepted, rejected) => {
      const files = [...accepted, ...rejected.map((r) => r.file)]
      if (files.length) onFiles(files)
    },
  })

  return (
    <div
      {...getRootProps({
        ref,
        className: `dropzone${isDragActive ? ' dropzone--active' : ''}`,
        role: 'button',
        'aria-label': 'Choose an image or a clip to analyze: drop files here, press Enter to browse, or paste',
        'aria-describedby': 'dropzone-hint',
      })}
    >
      <input {...getInputProps({ accept: ACCEPT_ATTRIBUTE, 'aria-label': 'Image files or video clips' })} />
      <svg className="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2" />
      </svg>
      <p className="dropzone__title">
        {isDragActive ? 'Drop the files here' : 'Drop images or clips here, or click to choose them'}
      </p>
      <p className="dropzone__hint" id="dropzone-hint">
        Images: {ACCEPTED_TYPE_TEXT}, up to {formatMegabytes(MAX_UPLOAD_BYTES)}. Clips: {ACCEPTED_VIDEO_TYPE_TEXT}, up to{' '}
        {formatMegabytes(MAX_VIDEO_UPLOAD_BYTES)} and {DURATION_LIMIT_TEXT}. Several files are analysed one after another. You can also paste with
        Ctrl+V.
      </p>
    </div>
  )
})

export default DropZone
