import { expect } from 'chai'
import { readCookie, sessionCookieName, SessionStore } from '../src/sessions.ts'

describe('dashboard sessions', () => {
  it('accepts the IDs it made, and no other', () => {
    const sessions = new SessionStore()
    const id = sessions.create()
    expect(id).to.match(/^[\w-]{43}$/)
    expect(sessions.valid(id)).to.equal(true)
    expect(sessions.valid(id.slice(1))).to.equal(false)
    expect(sessions.valid('')).to.equal(false)
    expect(sessions.valid(undefined)).to.equal(false)
  })

  it('ends a session when it expires or is deleted', () => {
    const sessions = new SessionStore({ ttl: 1000 })
    const a = sessions.create(0)
    const b = sessions.create(0)
    expect(sessions.valid(a, 999)).to.equal(true)
    expect(sessions.valid(a, 1000)).to.equal(false)
    sessions.delete(b)
    expect(sessions.valid(b, 500)).to.equal(false)
  })

  it('forgets the oldest session beyond its limit', () => {
    const sessions = new SessionStore({ max: 2 })
    const [a, b, c] = [sessions.create(), sessions.create(), sessions.create()]
    expect([a, b, c].map(id => sessions.valid(id))).to.deep.equal([false, true, true])
  })

  it('names the cookie after the port, and reads it from a Cookie header', () => {
    expect(sessionCookieName(7870)).to.equal('ionnet-session-7870')
    const header = 'other=1; ionnet-session-7871=b; ionnet-session-7870=a-b_c'
    expect(readCookie(header, 'ionnet-session-7870')).to.equal('a-b_c')
    expect(readCookie(header, 'ionnet-session-7')).to.equal(undefined)
    expect(readCookie(undefined, 'ionnet-session-7870')).to.equal(undefined)
  })
})
