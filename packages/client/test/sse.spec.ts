import { expect } from 'chai'
import { parseSse, SseParser } from '../src/sse.ts'
import type { SseMessage } from '../src/sse.ts'

const enc = new TextEncoder()

/** Feeds `bytes` split at the given offsets and collects every message. */
function parseSplit (bytes: Uint8Array, cuts: number[]): SseMessage[] {
  const parser = new SseParser()
  const out: SseMessage[] = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    out.push(...parser.push(bytes.subarray(from, cut)))
    from = cut
  }
  return out
}

const STREAM = '\uFEFF: keep-alive\r\nevent: snapshot\r\ndata: {"peers":[],"note":"héllo ✓"}\r\n\r\n' +
  'event: repair\ndata: {"cid":"bafk","ms":12}\n\n' +
  'data: line one\rdata:  two spaces\r\rid: 7\nevent:ping\ndata\n\n'

const EXPECTED: SseMessage[] = [
  { event: 'snapshot', data: '{"peers":[],"note":"héllo ✓"}' },
  { event: 'repair', data: '{"cid":"bafk","ms":12}' },
  { event: 'message', data: 'line one\n two spaces' },
  { event: 'ping', data: '', id: '7' }
]

describe('SseParser', () => {
  it('parses a stream with CRLF, LF and CR line ends, a BOM, comments, multi-line data and an id', () => {
    expect(parseSplit(enc.encode(STREAM), [])).to.deep.equal(EXPECTED)
  })

  it('gives the same messages wherever one cut splits the bytes, inside UTF-8 characters and CRLF pairs included', () => {
    const bytes = enc.encode(STREAM)
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parseSplit(bytes, [cut]), `cut at ${cut}`).to.deep.equal(EXPECTED)
    }
  })

  it('gives the same messages when fed one byte at a time', () => {
    const bytes = enc.encode(STREAM)
    expect(parseSplit(bytes, Array.from({ length: bytes.length }, (_, i) => i))).to.deep.equal(EXPECTED)
  })

  it('treats a CR at the end of one chunk and an LF at the start of the next as one line end, not two', () => {
    const parser = new SseParser()
    expect(parser.push('data: a\r')).to.deep.equal([])
    // were the LF a second line end, the message would be dispatched here
    expect(parser.push('\ndata: b\r\n')).to.deep.equal([])
    expect(parser.push('\r\n')).to.deep.equal([{ event: 'message', data: 'a\nb' }])
  })

  it('does not dispatch a message without data lines, and resets its event type', () => {
    const parser = new SseParser()
    expect(parser.push('event: lonely\n\ndata: x\n\n')).to.deep.equal([{ event: 'message', data: 'x' }])
  })

  it('strips one space after the colon, no more, and ignores unknown fields and retry', () => {
    const parser = new SseParser()
    expect(parser.push('retry: 1000\nfoo: bar\ndata:   x\n\n')).to.deep.equal([{ event: 'message', data: '  x' }])
  })

  it('keeps the last id for later messages, as EventSource does', () => {
    const parser = new SseParser()
    expect(parser.push('id: 1\ndata: a\n\ndata: b\n\n')).to.deep.equal([{ event: 'message', data: 'a', id: '1' }, { event: 'message', data: 'b', id: '1' }])
  })

  it('drops a message cut off by the end of the stream', async () => {
    const messages: SseMessage[] = []
    for await (const m of parseSse([enc.encode('data: whole\n\n'), enc.encode('data: cut')])) messages.push(m)
    expect(messages).to.deep.equal([{ event: 'message', data: 'whole' }])
  })
})
