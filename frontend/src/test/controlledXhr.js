import { vi } from 'vitest'

/**
 * Replace XMLHttpRequest with one the test drives step by step (MSW reports a mocked upload only once it answers).
 * Returns the list of requests made; each has progress(loaded, total), uploaded() and respond(status, json).
 */
export function controlXhr() {
  const requests = []
  class ControlledXhr extends EventTarget {
    upload = new EventTarget()
    status = 0
    statusText = ''
    responseText = ''

    constructor() {
      super()
      requests.push(this)
    }

    open(method, url) {
      this.method = method
      this.url = new URL(url)
    }

    setRequestHeader() {}

    getResponseHeader(name) {
      return name.toLowerCase() === 'content-type' ? 'application/json' : null
    }

    send(body) {
      this.body = body
    }

    abort() {
      this.dispatchEvent(new Event('abort'))
      this.dispatchEvent(new Event('loadend'))
    }

    progress(loaded, total) {
      this.upload.dispatchEvent(new ProgressEvent('progress', { lengthComputable: true, loaded, total }))
    }

    uploaded() {
      this.upload.dispatchEvent(new ProgressEvent('load'))
    }

    respond(status, json) {
      this.status = status
      this.responseText = JSON.stringify(json)
      this.dispatchEvent(new ProgressEvent('load'))
      this.dispatchEvent(new ProgressEvent('loadend'))
    }
  }
  vi.stubGlobal('XMLHttpRequest', ControlledXhr)
  return requests
}
