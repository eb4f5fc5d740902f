import { randomBytes } from 'node:crypto'
import { LAB_PREFIX } from './constants.ts'
import { run } from './exec.ts'

/** Whether this machine can host a lab, and if not, why. */
export type Support = { ok: true } | { ok: false, reason: string }

/**
 * Checks that labs can run here: Linux, root, `ip` and `tc` present, and a network namespace can really be created
 * (containers often forbid it even to root). Tests call it in `before` and skip with the reason.
 */
export async function checkSupport (): Promise<Support> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` }
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run as root, or in a container that allows it)' }
  for (const tool of ['ip', 'tc']) {
    try {
      await run(tool, ['-V'])
    } catch {
      return { ok: false, reason: `\`${tool}\` is missing: install iproute2` }
    }
  }
  // not a lab id (no hex id after the prefix), so stale-lab clean-up never mistakes it for a lab
  const probe = `${LAB_PREFIX}probe-${randomBytes(3).toString('hex')}`
  try {
    await run('ip', ['netns', 'add', probe])
  } catch (err: any) {
    return { ok: false, reason: `cannot create a network namespace: ${err.stderr?.trim() ?? err.message}` }
  }
  await run('ip', ['netns', 'del', probe]).catch(() => {})
  return { ok: true }
}
