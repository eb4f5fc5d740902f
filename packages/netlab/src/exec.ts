import { execFile, execFileSync } from 'node:child_process'
import { LabCommandError } from './errors.ts'

/** Runs a system command (ip, tc) and resolves its stdout; LabCommandError with its stderr when it fails. */
export async function run (cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err != null) reject(new LabCommandError(`${cmd} ${args.join(' ')}`, stderr !== '' ? stderr : err.message))
      else resolve(stdout)
    })
  })
}

/** The same, blocking: for clean-up in an `exit` handler, where nothing asynchronous runs any more. */
export function runSync (cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 })
  } catch (err: any) {
    throw new LabCommandError(`${cmd} ${args.join(' ')}`, String(err.stderr ?? err.message))
  }
}

/** `ip` with its arguments. */
export async function ip (...args: string[]): Promise<string> {
  return run('ip', args)
}

/** `ip` inside a namespace (`ip -n <ns> ...`): the lab itself never enters a namespace. */
export async function ipIn (ns: string, ...args: string[]): Promise<string> {
  return run('ip', ['-n', ns, ...args])
}

/** `tc` inside a namespace. */
export async function tcIn (ns: string, ...args: string[]): Promise<string> {
  return run('tc', ['-n', ns, ...args])
}
