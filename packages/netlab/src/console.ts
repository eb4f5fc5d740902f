import { createInterface } from 'node:readline'
import { formatBytes, table } from './figures.ts'
import { formatRate, parseRate } from './lab.ts'
import type { Lab } from './lab.ts'
import type { Writable } from 'node:stream'

/** One console command: its argument shape, what it does, and how it runs. */
interface Command {
  args: string
  help: string
  run(lab: Lab, args: string[], out: Writable): Promise<void> | void
}

const host = (text: string | undefined): number => {
  const n = Number(String(text ?? '').replace(/^h/, ''))
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a host number (3 or h3), got ${text ?? 'nothing'}`)
  return n
}

/** The fault commands of `ionnet-lab up`; the same names as the Lab methods they call. */
const COMMANDS: Record<string, Command> = {
  hosts: {
    args: '',
    help: 'every host: address, peer, cable, group, limits',
    run: async (lab, _, out) => {
      const rows = []
      for (const h of lab.hosts) {
        const link = lab.link(h)
        const c = await lab.counters(h)
        rows.push([h.name, h.address, h.peerId?.slice(-8), h.paused ? 'paused' : h.running ? 'running' : 'down', link.cut ? 'cut' : 'in', link.group,
          `${formatRate(link.rates.up)} / ${formatRate(link.rates.down)}`, `${formatBytes(c.tx)} / ${formatBytes(c.rx)}`])
      }
      out.write(table(['HOST', 'ADDRESS', 'PEER', 'PROCESS', 'CABLE', 'GROUP', 'UP / DOWN LIMIT', 'SENT / RECEIVED'], rows) + '\n')
    }
  },
  cut: { args: '<host>', help: 'pull the host\'s cable (its switch port goes down)', run: async (lab, [h]) => { await lab.cut(host(h)) } },
  reconnect: { args: '<host>', help: 'plug the cable back in', run: async (lab, [h]) => { await lab.reconnect(host(h)) } },
  partition: {
    args: '<hosts> <hosts> ...',
    help: 'split into groups that cannot reach each other, e.g. partition 1,2,3 4,5',
    run: async (lab, groups) => { await lab.partition(groups.map(g => g.split(',').map(host))) }
  },
  heal: { args: '', help: 'end the partition', run: async (lab) => { await lab.heal() } },
  limit: {
    args: '<host> <rate> [<down rate>]',
    help: 'limit the host\'s link with tbf, e.g. limit 3 10mbit (both ways) or limit 3 1mbit 20mbit (up, down)',
    run: async (lab, [h, up, down]) => { await lab.limit(host(h), { up: parseRate(up ?? ''), down: parseRate(down ?? up ?? '') }) }
  },
  unlimit: { args: '<host>', help: 'remove the host\'s limits', run: async (lab, [h]) => { await lab.unlimit(host(h)) } },
  kill: { args: '<host>', help: 'SIGKILL the host\'s peer', run: async (lab, [h]) => { await lab.kill(host(h)) } },
  stop: { args: '<host>', help: 'stop the host\'s peer cleanly (SIGTERM)', run: async (lab, [h]) => { await lab.stop(host(h)) } },
  pause: { args: '<host>', help: 'freeze the host\'s peer (SIGSTOP)', run: (lab, [h]) => { lab.pause(host(h)) } },
  resume: { args: '<host>', help: 'let it run again (SIGCONT)', run: (lab, [h]) => { lab.resume(host(h)) } },
  restart: { args: '<host>', help: 'start the host\'s peer again on its repo', run: async (lab, [h]) => { await lab.restart(host(h)) } },
  add: { args: '', help: 'a new host joins', run: async (lab, _, out) => { out.write(`${(await lab.addHost()).name}\n`) } },
  ionnet: {
    args: '<host> <args...>',
    help: 'run the ionnet CLI in a host, e.g. ionnet 2 put /tmp/x.bin, ionnet 3 health <link>',
    run: async (lab, [h, ...args], out) => {
      const r = await lab.host(host(h)).run(args)
      out.write(r.stdout + r.stderr)
    }
  },
  shell: {
    args: '<host>',
    help: 'print the command that opens a shell in a host',
    run: (lab, [h], out) => { out.write(`ip netns exec ${lab.host(host(h)).ns} bash\n`) }
  }
}

/**
 * Reads commands line by line and applies them to the lab until `quit` or the end of input. Errors are printed and
 * the console goes on.
 */
export async function runConsole (lab: Lab, io: { input: NodeJS.ReadableStream, output: Writable }): Promise<void> {
  const out = io.output
  const help = (): void => {
    out.write(table(['COMMAND', 'WHAT IT DOES'], [...Object.entries(COMMANDS).map(([name, c]) => [`${name} ${c.args}`.trim(), c.help]), ['quit', 'remove the lab and exit']]) + '\n')
  }
  out.write(`lab ${lab.id} is up with ${lab.hosts.length} hosts; type help for the commands\n`)
  // the prompt is written by hand: with piped input, readline closes while buffered lines still wait their turn
  const prompt = (): void => { out.write('lab> ') }
  const rl = createInterface({ input: io.input, terminal: false })
  prompt()
  for await (const line of rl) {
    const [name, ...args] = line.trim().split(/\s+/).filter(Boolean)
    if (name === 'quit' || name === 'exit') break
    try {
      if (name == null) {
        // empty line
      } else if (name === 'help') {
        help()
      } else if (COMMANDS[name] == null) {
        out.write(`unknown command ${name}; type help\n`)
      } else {
        await COMMANDS[name].run(lab, args, out)
      }
    } catch (err: any) {
      out.write(`error: ${err.message}\n`)
    }
    prompt()
  }
  rl.close()
}
