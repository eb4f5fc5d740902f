// @ts-check
/**
 * The dashboard page: signs in with the token from the address, follows the peer's event stream, and wires the
 * upload and download controls. Everything it shows comes from `snapshot` and `repair` events; nothing polls.
 */
import { download, rememberToken, signIn, takeTokenFromUrl, upload } from './api.js'
import { formatSize } from './format.js'
import { byId, render, renderRepairs } from './view.js'

/** @typedef {import('./api.js').Snapshot} Snapshot */

/** Repairs kept on the page between snapshots (the peer keeps as many). */
const MAX_REPAIRS = 50

/** Wait before signing in again after the stream failed, growing to RETRY_MAX while the peer stays away. */
const RETRY_MIN = 1000
const RETRY_MAX = 10_000

/** @type {Snapshot | undefined} */
let latest
/** @type {EventSource | undefined} */
let events
let retry = RETRY_MIN

const actions = {
  /** @param {string} link */
  onDownload: (link) => { void startDownload(link) },
  /** @param {string} text @param {HTMLButtonElement} button */
  onCopy: (text, button) => { void copy(text, button) }
}

/** @param {'connecting' | 'live' | 'reconnecting' | 'signed-out'} state @param {string} text */
function setStatus (state, text) {
  const status = byId('status')
  status.dataset.state = state
  status.textContent = text
}

async function connect () {
  setStatus('connecting', 'connecting…')
  const outcome = await signIn()
  if (outcome === 'unauthorized') {
    setStatus('signed-out', 'signed out')
    byId('signin').hidden = false
    return
  }
  if (outcome === 'offline') {
    setStatus('reconnecting', 'peer unreachable, retrying…')
    setTimeout(() => { void connect() }, retry)
    retry = Math.min(RETRY_MAX, retry * 2)
    return
  }
  byId('signin').hidden = true
  follow()
}

function follow () {
  events?.close()
  const source = new EventSource('/api/v1/events')
  events = source
  source.addEventListener('open', () => {
    retry = RETRY_MIN
    setStatus('live', 'live')
  })
  source.addEventListener('snapshot', (e) => {
    latest = JSON.parse(/** @type {MessageEvent} */ (e).data)
    if (latest != null) render(latest, actions)
  })
  source.addEventListener('repair', (e) => {
    if (latest == null) return
    latest.repairs = [JSON.parse(/** @type {MessageEvent} */ (e).data), ...latest.repairs].slice(0, MAX_REPAIRS)
    renderRepairs(latest.repairs, Date.now())
  })
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CONNECTING) {
      // the browser reconnects by itself after a dropped stream
      setStatus('reconnecting', 'reconnecting…')
      return
    }
    // refused (a restarted peer forgot our session, say): sign in again, then follow anew
    source.close()
    setTimeout(() => { void connect() }, retry)
  })
}

/** @param {File} file */
async function startUpload (file) {
  const progress = /** @type {HTMLProgressElement} */ (byId('upload-progress'))
  const status = byId('upload-status')
  const result = byId('upload-result')
  const replicas = Number(/** @type {HTMLInputElement} */ (byId('replicas')).value) || undefined
  result.hidden = true
  progress.hidden = false
  progress.value = 0
  status.dataset.state = 'busy'
  status.textContent = `uploading ${file.name} (${formatSize(file.size)})…`
  try {
    const put = await upload(file, {
      replicas,
      onProgress: (sent, total) => { progress.value = total > 0 ? sent / total : 0 },
      onSent: () => { status.textContent = `encrypting and placing the chunks of ${file.name}…` }
    })
    progress.value = 1
    const field = /** @type {HTMLInputElement} */ (byId('upload-link'))
    field.value = put.link
    result.hidden = false
    status.dataset.state = put.warning != null ? 'warning' : 'done'
    status.textContent = `${put.name}: ${put.chunks} chunks, at least ${put.minCopies} copies each${put.warning != null ? ` — ${put.warning}` : ''}`
  } catch (err) {
    status.dataset.state = 'error'
    status.textContent = `upload failed: ${/** @type {Error} */ (err).message}`
  } finally {
    progress.hidden = true
  }
}

/** @param {string} link */
async function startDownload (link) {
  const status = byId('download-status')
  status.dataset.state = 'busy'
  status.textContent = 'opening…'
  try {
    const { name, size } = await download(link)
    status.dataset.state = 'done'
    status.textContent = `downloading ${name === '' ? 'the file' : name} (${formatSize(size)}): see the browser's downloads`
  } catch (err) {
    status.dataset.state = 'error'
    status.textContent = `cannot download: ${/** @type {Error} */ (err).message}`
  }
}

/** @param {string} text @param {HTMLButtonElement} button */
async function copy (text, button) {
  const label = button.textContent
  try {
    await navigator.clipboard.writeText(text)
    button.textContent = 'copied'
  } catch {
    button.textContent = 'copy failed'
  }
  setTimeout(() => { button.textContent = label }, 1500)
}

function wire () {
  const drop = byId('drop')
  const input = /** @type {HTMLInputElement} */ (byId('file-input'))
  input.addEventListener('change', () => {
    const file = input.files?.[0]
    if (file != null) void startUpload(file)
    input.value = ''
  })
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add('over') })
  }
  for (const type of ['dragleave', 'drop']) {
    drop.addEventListener(type, () => { drop.classList.remove('over') })
  }
  drop.addEventListener('drop', (e) => {
    e.preventDefault()
    const file = /** @type {DragEvent} */ (e).dataTransfer?.files[0]
    if (file != null) void startUpload(file)
  })
  // a file dropped beside the zone must not replace the page with the file
  window.addEventListener('dragover', (e) => { e.preventDefault() })
  window.addEventListener('drop', (e) => { e.preventDefault() })

  byId('copy-link').addEventListener('click', (e) => {
    void copy(/** @type {HTMLInputElement} */ (byId('upload-link')).value, /** @type {HTMLButtonElement} */ (e.currentTarget))
  })
  byId('download-form').addEventListener('submit', (e) => {
    e.preventDefault()
    void startDownload(/** @type {HTMLInputElement} */ (byId('download-link')).value)
  })
  byId('signin-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const field = /** @type {HTMLInputElement} */ (byId('signin-token'))
    rememberToken(field.value)
    field.value = ''
    void connect()
  })
}

takeTokenFromUrl()
wire()
void connect()
