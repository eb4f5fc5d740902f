// @ts-check
/**
 * Draws snapshots into the page. Built with DOM calls and textContent only, never HTML strings, so a file name or
 * anything else a peer sends can never become markup. Strips are updated cell by cell: a snapshot a second costs
 * a few attribute writes, not a rebuilt page.
 */
import { copyState, formatAge, formatRate, formatSize, shortId } from './format.js'

/**
 * @typedef {import('./api.js').Snapshot} Snapshot
 * @typedef {import('./api.js').FileCopies} FileCopies
 * @typedef {import('./api.js').RepairRecord} RepairRecord
 * @typedef {import('./api.js').PeerSummary} PeerSummary
 */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attrs]
 * @param {Array<Node | string>} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el (tag, attrs = {}, children = []) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  node.append(...children)
  return node
}

/** @param {string} id */
export function byId (id) {
  const node = document.getElementById(id)
  if (node == null) throw new Error(`the page has no #${id}`)
  return node
}

/**
 * @param {Snapshot} snap
 * @param {{ onDownload(link: string): void, onCopy(text: string, button: HTMLButtonElement): void }} actions
 */
export function render (snap, actions) {
  byId('self').textContent = shortId(snap.self.peerId)
  byId('self').title = snap.self.peerId
  byId('rate-in').textContent = formatRate(snap.rates.inBytesPerSec)
  byId('rate-out').textContent = formatRate(snap.rates.outBytesPerSec)
  renderPeers(snap)
  renderFiles(snap.files, actions)
  renderRepairs(snap.repairs, snap.at)
}

/** @param {Snapshot} snap */
function renderPeers (snap) {
  const live = snap.peers.filter(p => p.alive).length
  byId('peer-count').textContent = `${live + 1} live of ${snap.peers.length + 1}`
  const self = snap.self
  const rows = [
    peerRow({ id: self.peerId, state: 'self', label: 'this peer', heartbeat: '–', chunks: self.chunks, bytes: self.bytes, free: self.capacity == null ? null : Math.max(0, self.capacity - self.bytes) })
  ]
  for (const p of snap.peers) {
    const state = p.alive ? (p.overdue ? 'overdue' : 'alive') : 'dead'
    rows.push(peerRow({ id: p.peerId, state, label: state, heartbeat: `${formatAge(p.lastSeenMs)} ago`, chunks: p.chunks, bytes: p.bytes, free: p.free }))
  }
  const body = byId('peers').querySelector('tbody')
  body?.replaceChildren(...rows)
}

/** @param {{ id: string, state: string, label: string, heartbeat: string, chunks: number, bytes: number, free: number | null }} p */
function peerRow (p) {
  const id = el('td', { class: 'mono', title: p.id }, [shortId(p.id)])
  return el('tr', { 'data-peer': p.id, 'data-state': p.state }, [
    id,
    el('td', {}, [el('span', { class: `badge ${p.state}` }, [p.label])]),
    el('td', { class: 'num' }, [p.heartbeat]),
    el('td', { class: 'num' }, [String(p.chunks)]),
    el('td', { class: 'num' }, [formatSize(p.bytes)]),
    el('td', { class: 'num' }, [p.free == null ? 'unlimited' : formatSize(p.free)])
  ])
}

/** @type {Map<string, { item: HTMLLIElement, strip: HTMLElement, summary: HTMLElement }>} */
const fileItems = new Map()

/**
 * @param {FileCopies[]} files
 * @param {{ onDownload(link: string): void, onCopy(text: string, button: HTMLButtonElement): void }} actions
 */
function renderFiles (files, actions) {
  const list = byId('files')
  byId('files-empty').hidden = files.length > 0
  const seen = new Set()
  const items = files.map(f => {
    seen.add(f.cid)
    let entry = fileItems.get(f.cid)
    if (entry == null) {
      entry = fileItem(f, actions)
      fileItems.set(f.cid, entry)
    }
    updateStrip(entry, f)
    return entry.item
  })
  for (const cid of fileItems.keys()) if (!seen.has(cid)) fileItems.delete(cid)
  // reorder only when the order changed: moving nodes would restart hover and focus
  if (items.some((item, i) => list.children[i] !== item) || list.children.length !== items.length) list.replaceChildren(...items)
}

/**
 * @param {FileCopies} f
 * @param {{ onDownload(link: string): void, onCopy(text: string, button: HTMLButtonElement): void }} actions
 */
function fileItem (f, actions) {
  const copy = el('button', { type: 'button', class: 'small' }, ['copy link'])
  copy.addEventListener('click', () => { actions.onCopy(f.link, copy) })
  const get = el('button', { type: 'button', class: 'small' }, ['download'])
  get.addEventListener('click', () => { actions.onDownload(f.link) })
  const summary = el('span', { class: 'muted' })
  const strip = el('div', { class: 'strip', role: 'img' })
  const item = el('li', { class: 'file', 'data-cid': f.cid }, [
    el('div', { class: 'file-head' }, [
      el('strong', { class: 'name', title: f.cid }, [f.name === '' ? '(no name)' : f.name]),
      el('span', { class: 'muted' }, [`${formatSize(f.size)} · ${f.replicas} copies wanted`]),
      summary,
      el('span', { class: 'actions' }, [copy, get])
    ]),
    strip
  ])
  return { item, strip, summary }
}

/**
 * @param {{ strip: HTMLElement, summary: HTMLElement }} entry
 * @param {FileCopies} f
 */
function updateStrip (entry, f) {
  const { strip, summary } = entry
  if (f.error != null && f.copies.length === 0) {
    summary.textContent = f.error
    return
  }
  if (f.copies.length === 0) {
    summary.textContent = 'counting copies…'
    return
  }
  while (strip.children.length > f.copies.length) strip.lastElementChild?.remove()
  while (strip.children.length < f.copies.length) strip.append(el('span', { class: 'cell' }))
  const sampled = f.copies.length < f.blocks
  let below = 0
  f.copies.forEach((n, i) => {
    const cell = /** @type {HTMLElement} */ (strip.children[i])
    const state = copyState(n, f.replicas)
    if (state === 'missing' || state === 'under') below++
    if (cell.dataset.state !== state) cell.dataset.state = state
    if (cell.dataset.copies !== String(n)) {
      cell.dataset.copies = String(n)
      cell.title = `${i === 0 ? 'manifest' : sampled ? 'sampled block' : `block ${i}`}: ${n} live ${n === 1 ? 'copy' : 'copies'}`
    }
  })
  strip.setAttribute('aria-label', `${f.copies.length - below} of ${f.copies.length} blocks at ${f.replicas} or more copies`)
  const counted = f.ageMs == null ? '' : ` · counted ${formatAge(f.ageMs)} ago`
  summary.textContent = (below === 0
    ? `${f.blocks} blocks, all at target`
    : `${below} of ${f.copies.length} ${sampled ? 'sampled ' : ''}blocks below target`) + (sampled ? ` (sample of ${f.copies.length})` : '') + counted
  summary.dataset.below = String(below)
}

/**
 * @param {RepairRecord[]} repairs
 * @param {number} now
 */
export function renderRepairs (repairs, now) {
  byId('repairs-empty').hidden = repairs.length > 0
  byId('repairs').replaceChildren(...repairs.map(r => el('li', { 'data-reason': r.reason }, [
    el('span', { class: `badge ${r.reason}` }, [r.reason]),
    ' ',
    el('span', { class: 'mono', title: r.cid }, [shortId(r.cid)]),
    ' → ',
    el('span', { class: 'mono', title: r.to }, [shortId(r.to)]),
    el('span', { class: 'muted' }, [` ${formatSize(r.bytes)} in ${r.ms} ms, ${formatAge(Math.max(0, now - r.at))} ago`])
  ])))
}
