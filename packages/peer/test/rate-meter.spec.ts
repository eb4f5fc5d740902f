import { expect } from 'chai'
import { RateMeter } from '../src/rate-meter.ts'

describe('rate meter', () => {
  it('reports bytes per second between the oldest and newest sample of its window', () => {
    const meter = new RateMeter(5000)
    for (let s = 0; s <= 5; s++) meter.sample(s * 1_000_000, s * 1000)
    expect(meter.rate()).to.equal(1_000_000)
  })

  it('forgets what moved before the window, so a finished transfer fades to 0', () => {
    const meter = new RateMeter(5000)
    for (let s = 0; s <= 3; s++) meter.sample(s * 1_000_000, s * 1000)
    for (let s = 4; s <= 12; s++) meter.sample(3_000_000, s * 1000)
    expect(meter.rate()).to.equal(0)
    // negative control: within the window the transfer still counts
    const recent = new RateMeter(5000)
    for (let s = 0; s <= 3; s++) recent.sample(s * 1_000_000, s * 1000)
    for (let s = 4; s <= 6; s++) recent.sample(3_000_000, s * 1000)
    expect(recent.rate()).to.be.greaterThan(0)
  })

  it('reports 0 before two samples and after a reset', () => {
    const meter = new RateMeter(5000)
    expect(meter.rate()).to.equal(0)
    meter.sample(100, 0)
    expect(meter.rate()).to.equal(0)
    meter.sample(1100, 1000)
    expect(meter.rate()).to.equal(1000)
    meter.reset()
    expect(meter.rate()).to.equal(0)
  })
})
