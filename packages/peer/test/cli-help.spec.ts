import { expect } from 'chai'
import { Writable } from 'node:stream'
import { main } from '../src/cli.ts'

async function help (args: string[]): Promise<{ code: number, text: string }> {
  let text = ''
  const sink = new Writable({ write (chunk, _enc, done) { text += String(chunk); done() } })
  const code = await main([...args, '--help'], { stdout: sink, stderr: sink })
  return { code, text }
}

describe('ionnet --help', () => {
  const commands = [[], ['peer', 'start'], ['swarm-key', 'new'], ['put'], ['get'], ['peers'], ['ls'], ['health'], ['devnet'], ['id']]
  for (const command of commands) {
    it(`ionnet ${command.join(' ')} --help explains every option and shows an example`, async () => {
      const { code, text } = await help(command)
      expect(code).to.equal(0)
      expect(text).to.match(/^Usage: ionnet/)
      expect(text).to.include('Example:')
      const options = text.split('\n').filter(line => /^ {2}-/.test(line))
      expect(options.length).to.be.greaterThan(0)
      for (const line of options) expect(line, 'an option without a description').to.match(/^ {2}-\S.*? {2,}\S/)
    })
  }
})
