import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LAB_PREFIX, ORPHAN_AGE, STATE_DIR } from './constants.ts'
import { ip, runSync } from './exec.ts'

/**
 * Which labs exist on this machine and who owns them. A lab writes its record before it creates anything, and
 * removes it last; everything it creates is named after its id. So a lab whose owner died (a crash, SIGKILL, a
 * closed terminal) is found by the next one and removed: its peers killed, its namespaces deleted, its folder gone.
 */

/** What a lab leaves on disk while it runs. */
export interface LabRecord {
  labId: string
  /** The owning process, and its start time (clock ticks since boot) so a reused pid is not taken for the owner. */
  pid: number
  startTime: string
  dir: string
  created: string
}

/** Folder of lab records: one for the whole machine, so every lab sees every other one's owner. */
export function stateDir (): string {
  return STATE_DIR
}

/** The lab's working folder (repos, files): named after its id, so an orphaned lab's folder is found without a record. */
export function labDir (labId: string): string {
  return join(tmpdir(), `${LAB_PREFIX}${labId}`)
}

/** The name of one of a lab's namespaces: `ionlab-<labId>-<suffix>` (sw for the switch, h1, h2, ... for hosts). */
export function namespaceName (labId: string, suffix: string): string {
  return `${LAB_PREFIX}${labId}-${suffix}`
}

/** The lab id in a namespace name, or undefined when the name is not a lab's. */
export function labIdOf (ns: string): string | undefined {
  return new RegExp(`^${LAB_PREFIX}([0-9a-f]{6,})-[a-z0-9]+$`).exec(ns)?.[1]
}

/** Start time of a process from /proc/<pid>/stat (field 22), or undefined when it does not exist. */
export function processStartTime (pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

/** True while the process that wrote the record still runs (same pid and same start time). */
export function ownerAlive (record: Pick<LabRecord, 'pid' | 'startTime'>): boolean {
  return processStartTime(record.pid) === record.startTime
}

/** A record for a lab owned by this process. */
export function ownRecord (labId: string): LabRecord {
  return { labId, pid: process.pid, startTime: processStartTime(process.pid) ?? '', dir: labDir(labId), created: new Date().toISOString() }
}

export async function writeRecord (record: LabRecord): Promise<void> {
  await mkdir(stateDir(), { recursive: true, mode: 0o700 })
  await writeFile(join(stateDir(), `${record.labId}.json`), JSON.stringify(record, null, 2) + '\n', { mode: 0o600 })
}

export async function readRecords (): Promise<LabRecord[]> {
  const names = await readdir(stateDir()).catch(() => [])
  const records: LabRecord[] = []
  for (const name of names.filter(n => n.endsWith('.json'))) {
    try {
      records.push(JSON.parse(await readFile(join(stateDir(), name), 'utf8')))
    } catch {
      // a record being written or damaged: its lab is found again by its namespaces
    }
  }
  return records
}

/** Names of every network namespace on the machine that belongs to a lab. */
export async function labNamespaces (): Promise<string[]> {
  return parseNetnsList(await ip('netns', 'list').catch(() => ''))
}

function parseNetnsList (out: string): string[] {
  return out.split('\n').map(line => line.split(' ')[0]).filter(ns => labIdOf(ns) != null)
}

/** A lab found on the machine, with whether its owner still runs. */
export interface LabSighting {
  labId: string
  record?: LabRecord
  namespaces: string[]
  /** Owner dead, or no record and namespaces older than ORPHAN_AGE. */
  stale: boolean
}

/** Every lab on the machine: those with records and those only their namespaces betray. */
export async function findLabs (): Promise<LabSighting[]> {
  const records = await readRecords()
  const namespaces = await labNamespaces()
  const ids = new Set([...records.map(r => r.labId), ...namespaces.map(ns => labIdOf(ns)!)])
  const labs: LabSighting[] = []
  for (const labId of ids) {
    const record = records.find(r => r.labId === labId)
    const own = namespaces.filter(ns => labIdOf(ns) === labId)
    const stale = record != null ? !ownerAlive(record) : await olderThan(own, ORPHAN_AGE)
    labs.push({ labId, record, namespaces: own, stale })
  }
  return labs
}

async function olderThan (namespaces: string[], ms: number): Promise<boolean> {
  for (const ns of namespaces) {
    const info = await stat(`/run/netns/${ns}`).catch(() => undefined)
    if (info != null && Date.now() - info.ctimeMs < ms) return false
  }
  return true
}

/** Removes every lab whose owner is gone; resolves their ids. */
export async function removeStaleLabs (): Promise<string[]> {
  const stale = (await findLabs()).filter(l => l.stale)
  for (const lab of stale) await removeLab(lab.labId)
  return stale.map(l => l.labId)
}

/**
 * Removes a lab: kills every process in its namespaces (peers, CLI commands, shells), deletes the namespaces (the
 * host namespaces first: their cables go with them), then its folder and its record.
 */
export async function removeLab (labId: string): Promise<void> {
  const namespaces = (await labNamespaces()).filter(ns => labIdOf(ns) === labId)
  for (const ns of sortHostsFirst(namespaces)) {
    killAll(await ip('netns', 'pids', ns).catch(() => ''))
    await ip('netns', 'del', ns).catch(() => {})
  }
  await rm(labDir(labId), { recursive: true, force: true })
  await rm(join(stateDir(), `${labId}.json`), { force: true })
}

/** The same, blocking: for `exit` handlers, where promises never settle. */
export function removeLabSync (labId: string): void {
  let namespaces: string[] = []
  try {
    namespaces = readdirSync('/run/netns').filter(ns => labIdOf(ns) === labId)
  } catch {}
  for (const ns of sortHostsFirst(namespaces)) {
    try { killAll(runSync('ip', ['netns', 'pids', ns])) } catch {}
    try { runSync('ip', ['netns', 'del', ns]) } catch {}
  }
  rmSync(labDir(labId), { recursive: true, force: true })
  rmSync(join(stateDir(), `${labId}.json`), { force: true })
}

/** Seconds since a namespace was created, for `ionnet-lab list`. */
export function namespaceAge (ns: string): number | undefined {
  try {
    return Math.round((Date.now() - statSync(`/run/netns/${ns}`).ctimeMs) / 1000)
  } catch {
    return undefined
  }
}

function sortHostsFirst (namespaces: string[]): string[] {
  return [...namespaces].sort((a, b) => Number(a.endsWith('-sw')) - Number(b.endsWith('-sw')))
}

function killAll (pids: string): void {
  for (const pid of pids.split(/\s+/).map(Number).filter(n => n > 0 && n !== process.pid)) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
}
