import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import demoMethods from '../demo/methods.js'
import { REPO_ROOT } from './support/child-process.js'
import { startServer, type RunningServer } from './support/start-server.js'

const run = promisify(execFile)

/** Every `curl …` line of the README's shell blocks, in order. */
async function readmeCurlCommands (): Promise<string[]> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8')
  const commands: string[] = []
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of (block[1] as string).split('\n')) {
      if (line.startsWith('curl ')) commands.push(line)
    }
  }
  return commands
}

describe('the README\'s curl examples, run as written against the demo methods', () => {
  let server: RunningServer
  let workDir: string
  const iso = Buffer.alloc(3 * 1024 * 1024 + 17, 'formcall')

  before(async () => {
    server = await startServer({ methods: demoMethods })
    workDir = await mkdtemp(join(tmpdir(), 'formcall-readme-'))
    await writeFile(join(workDir, 'big.iso'), iso)
  })
  after(async () => {
    await server?.close()
    await rm(workDir, { recursive: true, force: true })
  })

  it('there are curl examples to run', async () => {
    assert.ok((await readmeCurlCommands()).length >= 4)
  })

  it('each one succeeds: JSON results without errors, or a download saved under its filename', async () => {
    for (const command of await readmeCurlCommands()) {
      const local = command.replaceAll('http://127.0.0.1:8080', server.origin)
      const { stdout } = await run('sh', ['-c', `${local} -sS --fail-with-body`], { cwd: workDir })
      if (command.includes('-OJ')) {
        assert.ok((await readdir(workDir)).includes('report.csv'), command)
        assert.equal(await readFile(join(workDir, 'report.csv'), 'utf8'), 'a,b\n1,2\n')
        continue
      }
      const envelope = JSON.parse(stdout) as { result?: unknown, error?: unknown }
      assert.equal(envelope.error, undefined, `${command}\n${stdout}`)
      if (command.includes('files.digest')) {
        const result = envelope.result as { name: string, sha256: string }
        assert.equal(result.name, 'big.iso')
        assert.equal(result.sha256, createHash('sha256').update(iso).digest('hex'))
      }
    }
  })
})
