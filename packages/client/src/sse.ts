/** One server-sent event as the wire carries it, before its data is parsed. */
export interface SseMessage {
  /** The `event:` field; `message` when the server sent none. */
  event: string
  /** Every `data:` line of the message, joined by newlines. */
  data: string
  /** The last `id:` seen on the stream, as EventSource keeps it. */
  id?: string
}

/**
 * An incremental parser of `text/event-stream` (the WHATWG server-sent events format). Bytes can be split anywhere,
 * even inside a UTF-8 character or between the `\r` and `\n` of a line end: it keeps what it has not finished.
 */
export class SseParser {
  readonly #decoder = new TextDecoder('utf-8')
  #buffer = ''
  #first = true
  #skipLf = false
  #event = ''
  #data: string[] = []
  #id?: string

  /** Feeds the next bytes of the stream; returns the messages they completed. */
  push (chunk: Uint8Array | string): SseMessage[] {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true })
    if (this.#first && text.length > 0) {
      this.#first = false
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    if (this.#skipLf && text.length > 0) {
      // the \r that ended the last chunk ended a line already; its \n is not another (empty) line
      this.#skipLf = false
      if (text[0] === '\n') text = text.slice(1)
    }
    this.#buffer += text
    const out: SseMessage[] = []
    let start = 0
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer[i]
      if (c !== '\n' && c !== '\r') continue
      this.#line(this.#buffer.slice(start, i), out)
      if (c === '\r') {
        if (i + 1 === this.#buffer.length) this.#skipLf = true
        else if (this.#buffer[i + 1] === '\n') i++
      }
      start = i + 1
    }
    this.#buffer = this.#buffer.slice(start)
    return out
  }

  #line (line: string, out: SseMessage[]): void {
    if (line === '') {
      this.#dispatch(out)
      return
    }
    if (line[0] === ':') return // a comment, often a keep-alive
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value[0] === ' ') value = value.slice(1)
    if (field === 'event') this.#event = value
    else if (field === 'data') this.#data.push(value)
    else if (field === 'id' && !value.includes('\0')) this.#id = value
    // `retry` only matters to a reconnecting EventSource; unknown fields are ignored, as the format requires
  }

  #dispatch (out: SseMessage[]): void {
    const event = this.#event === '' ? 'message' : this.#event
    const data = this.#data
    this.#event = ''
    this.#data = []
    // a message without data is not dispatched (the format's rule); its id still counts
    if (data.length === 0) return
    const message: SseMessage = { event, data: data.join('\n') }
    if (this.#id != null) message.id = this.#id
    out.push(message)
  }
}

/** Parses a byte stream of server-sent events; a message cut off by the end of the stream is dropped, as EventSource does. */
export async function * parseSse (source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): AsyncGenerator<SseMessage> {
  const parser = new SseParser()
  for await (const chunk of source) yield * parser.push(chunk)
}
