import { forwardRef } from 'react'

/** A problem explained in plain words; role="alert" so screen readers announce it at once. */
const ErrorMessage = forwardRef(function ErrorMessage({ message, detail }, ref) {
  if (!message) return null
  return (
    <div className="error" role="alert" tabIndex={-1} ref={ref}>
      <svg className="error__icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <circle cx="12" cy="12" r="10" />
        <path d="M12 7v6m0 4h.01" />
      </svg>
      <div>
        <p className="error__message">{message}</p>
        {detail && <p className="error__detail">Server said: {detail}</p>}
      </div>
    </div>
  )
})

export default ErrorMessage
