import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'

/** Where Debian and its kin put a Chromium; CHROMIUM_PATH comes first. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** How long an apt-get install of chromium may take on a slow mirror. */
const INSTALL_TIMEOUT = 10 * 60_000

/**
 * The path of a Chromium for playwright-core to drive. Where none is installed and we run as root on a machine
 * with apt-get (CI, a fresh container), Debian's chromium is installed first. Resolves `{ reason }` when there is
 * none to be had, for the test to skip with.
 */
export async function findChromium (): Promise<{ path: string } | { reason: string }> {
  const found = await firstExecutable()
  if (found != null) return { path: found }
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { reason: 'no chromium found (set CHROMIUM_PATH, or install Debian\'s chromium: apt-get install chromium)' }
  if (!await executable('/usr/bin/apt-get')) return { reason: 'no chromium found, and no apt-get to install it with' }
  const install = await run('apt-get update && apt-get install -y chromium')
  const after = await firstExecutable()
  return after != null ? { path: after } : { reason: `no chromium found, and apt-get could not install it: ${install.slice(-500)}` }
}

async function firstExecutable (): Promise<string | undefined> {
  for (const path of [process.env.CHROMIUM_PATH, ...CANDIDATES]) {
    if (path != null && path !== '' && await executable(path)) return path
  }
  return undefined
}

async function executable (path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false)
}

/** Runs a shell command to its end; resolves its last output (for the skip message when it failed). */
async function run (command: string): Promise<string> {
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  let out = ''
  const keep = (d: Buffer): void => { out = (out + d.toString()).slice(-4000) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT)
  await new Promise(resolve => child.once('close', resolve))
  clearTimeout(timer)
  return out
}
