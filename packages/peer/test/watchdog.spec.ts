import { expect } from 'chai'
import { CHUNK_TIMEOUT, MIN_TRANSFER_RATE, PEER_SILENCE } from '../src/constants.ts'
import { Stalls, TransferClock, Watchdog, peerSilence } from '../src/watchdog.ts'
import { until } from './until.ts'
import type { Stream } from '@libp2p/interface'

/** What the watchdog uses of a stream: its 'message' events. */
function fakeStream (): Stream & { bytes(): void } {
  const target = new EventTarget() as any
  target.bytes = () => target.dispatchEvent(new Event('message'))
  return target
}

describe('watchdog of a chunk exchange', () => {
  it('fails an exchange that hears no bytes for its idle time, as a timeout', async () => {
    const watchdog = new Watchdog({ idle: 50, bytes: 1024 * 1024 })
    watchdog.expect(fakeStream(), new TransferClock(), 'peer-a')
    expect(await until(() => watchdog.signal.aborted, 2000)).to.equal(true)
    expect(watchdog.signal.reason.name).to.equal('TimeoutError')
    expect(watchdog.signal.reason.message).to.match(/heard no chunk bytes/)
  })

  it('fails an exchange whose stream is still being opened once it hears nothing for its idle time', async () => {
    // a frozen peer keeps its connection open and never answers the protocol's negotiation
    const watchdog = new Watchdog({ idle: 50, bytes: 1024 * 1024 })
    watchdog.expect(undefined, new TransferClock(), 'peer-a')
    expect(await until(() => watchdog.signal.aborted, 2000)).to.equal(true)
    expect(watchdog.expired).to.equal(true)
    expect(watchdog.signal.reason.message).to.match(/heard no chunk bytes/)
  })

  it('fails a fetch whose own peer sends nothing while other peers keep sending, once that peer\'s silence allows', async () => {
    const clock = new TransferClock()
    const busy = fakeStream()
    const keepBusy = setInterval(() => { busy.bytes() }, 10)
    try {
      const other = new Watchdog({ idle: 5000, bytes: 1024 * 1024 })
      other.expect(busy, clock, 'peer-b')
      let heard = performance.now()
      const watchdog = new Watchdog({ idle: 5000, bytes: 1024 * 1024 })
      watchdog.expect(fakeStream(), clock, 'peer-a', { limit: 200, silence: () => performance.now() - heard })
      // anything from the peer itself, on any connection, keeps its fetch going
      const talk = setInterval(() => { heard = performance.now() }, 50)
      const failedWhileTalking = await until(() => watchdog.signal.aborted, 400)
      clearInterval(talk)
      expect(failedWhileTalking, 'while the peer talks').to.equal(false)
      expect(await until(() => watchdog.signal.aborted, 2000)).to.equal(true)
      expect(watchdog.signal.reason.message).to.match(/heard nothing from the peer for \d+ ms/)
      expect(other.signal.aborted, 'the busy peer\'s exchange').to.equal(false)
      other.done()
    } finally {
      clearInterval(keepBusy)
    }
  })

  it('waits on a silent peer for PEER_SILENCE, or longer with a longer idle time', () => {
    expect(peerSilence(CHUNK_TIMEOUT)).to.equal(PEER_SILENCE)
    expect(peerSilence(3000)).to.equal(PEER_SILENCE)
    expect(peerSilence(CHUNK_TIMEOUT * 3)).to.equal(PEER_SILENCE * 3)
  })

  it('lets a slow exchange run while bytes keep coming, on its stream or another, then fails it once they stop', async () => {
    const clock = new TransferClock()
    const waiting = fakeStream()
    const busy = fakeStream()
    // an idle time well above the gaps between bytes, even on a busy machine
    const watchdog = new Watchdog({ idle: 250, bytes: 1024 * 1024 })
    const other = new Watchdog({ idle: 250, bytes: 1024 * 1024 })
    watchdog.expect(waiting, clock, 'peer-a')
    other.expect(busy, clock, 'peer-b')
    // bytes arrive only for the other exchange, for three idle times: this one waits behind it
    const started = Date.now()
    while (Date.now() - started < 750) {
      busy.bytes()
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    expect(watchdog.signal.aborted, 'aborted while bytes were arriving').to.equal(false)
    // and the clock knows whom the bytes came from: membership keeps that peer alive
    expect(clock.silenceOf('peer-b')).to.be.below(250)
    expect(clock.silenceOf('peer-a')).to.equal(Infinity)
    expect(await until(() => watchdog.signal.aborted, 2000), 'aborted once they stopped').to.equal(true)
    other.done()
  })

  it('ends any exchange once its bytes would have needed longer than the slowest rate allows', async () => {
    const stream = fakeStream()
    // a tenth of a second of bytes at MIN_TRANSFER_RATE, on top of an idle time of 50 ms
    const watchdog = new Watchdog({ idle: 50, bytes: MIN_TRANSFER_RATE / 10 })
    watchdog.expect(stream, new TransferClock(), 'peer-a')
    const started = Date.now()
    while (!watchdog.signal.aborted && Date.now() - started < 2000) {
      stream.bytes()
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    expect(watchdog.signal.aborted).to.equal(true)
    expect(Date.now() - started).to.be.at.least(140)
    expect(watchdog.signal.reason.message).to.match(/took more than 150 ms/)
  })

  it('moves the time limit out by the bytes of sends that begin while the exchange runs, and not once it is done', async () => {
    const stream = fakeStream()
    // 50 ms idle plus a tenth of a second of bytes: 150 ms; then a fifth of a second more, begun after 60 ms
    const watchdog = new Watchdog({ idle: 50, bytes: MIN_TRANSFER_RATE / 10 })
    watchdog.expect(stream, new TransferClock(), 'peer-a')
    const started = Date.now()
    let extended = false
    while (!watchdog.signal.aborted && Date.now() - started < 3000) {
      stream.bytes()
      if (!extended && Date.now() - started >= 60) {
        watchdog.extend(MIN_TRANSFER_RATE / 5)
        extended = true
      }
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    expect(watchdog.signal.aborted).to.equal(true)
    expect(Date.now() - started, 'ran past the first limit').to.be.at.least(340)
    expect(watchdog.signal.reason.message).to.match(/took more than 350 ms/)

    const finished = new Watchdog({ idle: 20, bytes: MIN_TRANSFER_RATE / 100 })
    finished.done()
    finished.extend(MIN_TRANSFER_RATE / 100)
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(finished.signal.aborted, 'a done exchange ended late').to.equal(false)
  })

  it('does not count silence while quiet, and passes on the caller\'s abort', async () => {
    const caller = new AbortController()
    const watchdog = new Watchdog({ idle: 30, bytes: MIN_TRANSFER_RATE * 10, signal: caller.signal })
    watchdog.expect(fakeStream(), new TransferClock(), 'peer-a')
    watchdog.quiet()
    await new Promise(resolve => setTimeout(resolve, 120))
    expect(watchdog.signal.aborted, 'aborted by silence while quiet').to.equal(false)
    caller.abort(new Error('the get was cancelled'))
    expect(watchdog.signal.aborted).to.equal(true)
    expect(watchdog.signal.reason.message).to.equal('the get was cancelled')
    watchdog.done()
  })
})

describe('peers that stalled', () => {
  it('counts a peer that stalled as silent until any bytes come from it, then forgets the stall', async () => {
    const stalls = new Stalls()
    expect(stalls.silentSince('peer-a', Infinity), 'never stalled').to.equal(false)
    stalls.record('peer-a')
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(stalls.silentSince('peer-a', Infinity), 'never heard from').to.equal(true)
    expect(stalls.silentSince('peer-a', 1000), 'last heard before it stalled').to.equal(true)
    expect(stalls.silentSince('peer-b', 1000), 'another peer').to.equal(false)
    expect(stalls.silentSince('peer-a', 0), 'bytes just now').to.equal(false)
    expect(stalls.silentSince('peer-a', 1000), 'once heard, the stall is forgotten').to.equal(false)
  })
})
