import { expect } from 'chai'
import { MemoryGovernor } from '../src/memory-governor.ts'
import { until } from './until.ts'

const MiB = 1024 * 1024

/** Holds `n` MiB of fresh buffers for a moment, then lets them go: garbage a collection can take back. */
async function churn (n: number): Promise<void> {
  let held: Uint8Array[] = []
  for (let i = 0; i < n; i++) held.push(new Uint8Array(MiB).fill(i))
  await new Promise(resolve => setTimeout(resolve, 30))
  held = []
}

describe('memory governor', () => {
  it('collects once buffers grew by a step while the process is over its budget', async () => {
    // every process is over a 1 MiB budget
    const governor = new MemoryGovernor({ budget: 1 * MiB, step: 4 * MiB, interval: 5 })
    governor.start()
    try {
      for (let i = 0; i < 20 && governor.collections === 0; i++) await churn(16)
      expect(await until(() => governor.collections > 0, 2000), 'a forced collection').to.equal(true)
    } finally {
      governor.stop()
    }
  })

  it('never collects while the process stays under its budget', async () => {
    const governor = new MemoryGovernor({ budget: 64 * 1024 * MiB, step: 4 * MiB, interval: 5 })
    governor.start()
    try {
      for (let i = 0; i < 5; i++) await churn(16)
      expect(governor.collections).to.equal(0)
    } finally {
      governor.stop()
    }
  })
})
