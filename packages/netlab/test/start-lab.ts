import { checkSupport, createLab } from '../src/index.ts'
import type { Lab, LabInit } from '../src/index.ts'

/**
 * Starts a lab for a suite's `before` hook, or skips the suite, saying why, where this machine cannot run one (no
 * root, no iproute2).
 */
export async function startLabOrSkip (suite: Mocha.Context, init: LabInit): Promise<Lab> {
  const support = await checkSupport()
  if (!support.ok) {
    console.log(`      skipping the lab tests: ${support.reason}`)
    suite.skip()
  }
  const lab = createLab(init)
  await lab.start()
  return lab
}
