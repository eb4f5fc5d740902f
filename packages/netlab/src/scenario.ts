import type { Lab, LabInit } from './lab.ts'

/** How an option's text becomes its value. */
export type OptionKind = 'int' | 'number' | 'size' | 'rate' | 'string'

/** One option a scenario takes on the command line, e.g. `{ name: 'rounds', kind: 'int', default: 12, help: '...' }`. */
export interface ScenarioOption {
  /** Long option name without dashes: `rounds` becomes `--rounds <value>`, and `options.rounds` in run(). */
  name: string
  kind: OptionKind
  default: number | string
  help: string
}

/** What a scenario hands its run(): the lab's settings and its own options, parsed. */
export interface ScenarioContext {
  /** Every option of the scenario by name, plus `hosts` and `seed`. */
  options: Record<string, any>
  /** The seeded random source of the schedule: the same --seed replays the same faults on the same hosts. */
  rng: () => number
  /**
   * Another seeded source, independent of `rng`, for choices that depend on timing (which host reads next, say):
   * drawing those from `rng` would make the schedule depend on how fast the machine is.
   */
  random(stream: string): () => number
  /** Prints a progress line (the CLI timestamps it). */
  say(line: string): void
}

/** How a scenario ended: pass or fail, and its figures. */
export interface Verdict {
  pass: boolean
  /** Why it passed or failed, one line each. */
  reasons: string[]
  /** The figures a reader compares between runs (files lost, heal times, bytes moved...). */
  figures: Record<string, unknown>
  /** Optional tables printed before the verdict. */
  tables?: string[]
}

/**
 * A scenario: a short script that drives a lab through faults and measures what the network does. The CLI builds
 * the lab (`hosts` and the peer settings from the command line, `lab` for anything else), calls run(), prints the
 * verdict and removes the lab.
 */
export interface Scenario {
  name: string
  description: string
  /** Hosts unless --hosts says otherwise. */
  hosts: number
  options: ScenarioOption[]
  /** Extra lab settings (per-host peer arguments, say) computed from the options. */
  lab?(options: Record<string, any>): Partial<LabInit>
  run(lab: Lab, context: ScenarioContext): Promise<Verdict>
}

/** Declares a scenario (an identity function that gives the object its type). */
export function defineScenario (scenario: Scenario): Scenario {
  return scenario
}
