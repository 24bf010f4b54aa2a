/**
 * Where upload spool files go: a directory only the server's user can enter, spool files readable by that user only,
 * nothing left behind by normal calls or closing, and the leftovers of a process that died (kill -9 while a spool file
 * was open) removed by the next start.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createServer, type CreateServerOptions } from '@formcall/server'
import { CLI_FROM_SOURCE, startChild } from './support/child-process.js'
import { PendingUpload, POOL_METHODS } from './support/pool-server.js'
import { waitFor } from './support/wait.js'

const UID = process.getuid?.() ?? 0
const FIRST = Buffer.from('first file '.repeat(100_000))
const SECOND = Buffer.from('second file, small')

let scratch = ''
before(async () => { scratch = await mkdtemp(join(tmpdir(), 'formcall-spool-test-')) })
after(async () => { await rm(scratch, { recursive: true, force: true }) })

let dirs = 0
/** A fresh path under the test's scratch directory (not created). */
const freshPath = (name: string): string => join(scratch, `${name}-${dirs++}`)

/** A parent shared like /tmp: sticky and open to everyone. */
async function sharedTmp (): Promise<string> {
  const dir = freshPath('shared-tmp')
  await mkdir(dir)
  await chmod(dir, 0o1777)
  return dir
}

async function listen (options: Omit<CreateServerOptions, 'methods'>): Promise<{ app: FastifyInstance, url: string }> {
  const app = createServer({ methodsModule: POOL_METHODS, isolation: 'inline', workers: 1, ...options, fastify: { logger: false } })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `${address.replace('localhost', '127.0.0.1')}/rpc` }
}

/** fs-capacitor's spool files anywhere under `dir`. */
async function spoolFilesUnder (dir: string): Promise<string[]> {
  const names = await readdir(dir, { recursive: true })
  return names.filter((name) => /capacitor-[0-9a-f]+\.tmp$/.test(name)).map((name) => join(dir, name))
}

/** The per-process spool directories in `parent`. */
async function processDirectoriesIn (parent: string): Promise<string[]> {
  return (await readdir(parent)).filter((name) => name.startsWith(`formcall-spool-${UID}-`))
}

/**
 * Starts a call that reads its second file before its first, with the body sent up to the second file's first bytes:
 * the first file is in a spool file until the rest is sent.
 */
async function uploadHeldInSpool (url: string): Promise<PendingUpload> {
  const upload = await PendingUpload.open(url,
    { method: 'uploads.secondFirst', params: [{ $file: 'one' }, { $file: 'two' }], id: 1 },
    [{ name: 'one', filename: 'one.txt', content: FIRST }, { name: 'two', filename: 'two.txt', content: SECOND }])
  await upload.sendUntil(upload.contentStart(1) + 4)
  return upload
}

async function assertAnswered (upload: PendingUpload): Promise<void> {
  await upload.sendRest()
  const response = await upload.response
  assert.equal(response.status, 200, response.text)
  assert.equal(response.json().result.first, FIRST.toString())
}

function modeOf (info: { mode: number }): number { return info.mode & 0o7777 }

for (const isolation of ['inline', 'worker'] as const) {
  test(`a spoolDirectory that does not exist is created 0700, its spool files are 0600, and none is left after the call (${isolation})`, async () => {
    const spoolDirectory = join(freshPath('named'), 'spool')
    const { app, url } = await listen({ spoolDirectory, isolation })
    try {
      assert.equal(modeOf(await lstat(spoolDirectory)), 0o700)
      const upload = await uploadHeldInSpool(url)
      await waitFor(async () => (await spoolFilesUnder(spoolDirectory)).length > 0, 'the first file to be spooled')
      for (const file of await spoolFilesUnder(spoolDirectory)) {
        assert.equal(modeOf(await lstat(file)), 0o600, 'readable and writable by the server\'s user only, not executable')
      }
      await assertAnswered(upload)
      await waitFor(async () => (await readdir(spoolDirectory)).length === 0, 'the spool directory to be empty')
    } finally {
      await app.close()
    }
    assert.deepEqual(await readdir(spoolDirectory), [], 'a named spool directory stays, empty')
  })
}

test('a leftover spool file planted in the spoolDirectory is removed at start, and nothing else in it is touched', async () => {
  const spoolDirectory = freshPath('planted')
  await mkdir(spoolDirectory, { mode: 0o700 })
  await writeFile(join(spoolDirectory, 'capacitor-0123456789abcdef0123456789abcdef.tmp'), '')
  await writeFile(join(spoolDirectory, 'capacitor-fedcba9876543210fedcba9876543210.tmp'), 'half an upload')
  await writeFile(join(spoolDirectory, 'notes.txt'), 'not a spool file')
  const { app } = await listen({ spoolDirectory })
  try {
    assert.deepEqual(await readdir(spoolDirectory), ['notes.txt'])
  } finally {
    await app.close()
  }
})

/** Spool directories a server must refuse: each is made by `make` at a fresh path. */
const UNSAFE: Array<{ what: string, make: (path: string) => Promise<void>, problem: RegExp, rootOnly?: boolean }> = [
  { what: 'a directory other users can enter', make: async (path) => { await mkdir(path); await chmod(path, 0o755) }, problem: /is open to other users \(mode 0755\)/ },
  { what: 'a sticky directory anyone can write to', make: async (path) => { await mkdir(path); await chmod(path, 0o1777) }, problem: /is open to other users \(mode 1777\)/ },
  {
    what: 'a symbolic link to a private directory',
    make: async (path) => {
      await mkdir(`${path}-target`, { mode: 0o700 })
      await symlink(`${path}-target`, path)
    },
    problem: /is a symbolic link/
  },
  { what: 'a file', make: async (path) => { await writeFile(path, '', { mode: 0o600 }) }, problem: /is not a directory/ },
  {
    what: 'a private directory of another user',
    make: async (path) => {
      await mkdir(path, { mode: 0o700 })
      await chown(path, 4242, 4242)
    },
    problem: /belongs to uid 4242/,
    rootOnly: true
  }
]

describe('a spoolDirectory that is not private to the server\'s user is refused at start', () => {
  for (const row of UNSAFE) {
    test(`${row.what} is refused with a message that names it`, { skip: row.rootOnly === true && UID !== 0 ? 'needs root to chown' : false }, async () => {
      const spoolDirectory = freshPath('unsafe')
      await row.make(spoolDirectory)
      const app = createServer({ methodsModule: POOL_METHODS, isolation: 'inline', spoolDirectory, fastify: { logger: false } })
      try {
        await assert.rejects(async () => { await app.ready() }, (err: Error) => {
          assert.match(err.message, /^spoolDirectory ".+"/)
          assert.match(err.message, row.problem)
          return true
        })
      } finally {
        await app.close().catch(() => {})
      }
    })
  }
})

test('without spoolDirectory each server spools into a private directory of its own in a shared tmpDir, removed at close', async () => {
  const tmpDir = await sharedTmp()
  const one = await listen({ tmpDir })
  const two = await listen({ tmpDir, isolation: 'worker' })
  let closed = false
  try {
    const made = await processDirectoriesIn(tmpDir)
    assert.equal(made.length, 2, `one directory per server: ${made.join(', ')}`)
    for (const name of made) {
      assert.match(name, new RegExp(`^formcall-spool-${UID}-${process.pid}-0-[A-Za-z0-9]{6}$`))
      const info = await lstat(join(tmpDir, name))
      assert.equal(modeOf(info), 0o700)
      assert.equal(info.uid, UID)
    }
    for (const { url } of [one, two]) {
      const upload = await uploadHeldInSpool(url)
      await waitFor(async () => (await spoolFilesUnder(tmpDir)).length === 1, 'the first file to be spooled')
      await assertAnswered(upload)
      await waitFor(async () => (await spoolFilesUnder(tmpDir)).length === 0, 'the spool file to be removed')
    }
    await one.app.close()
    await two.app.close()
    closed = true
    assert.deepEqual(await readdir(tmpDir), [], 'nothing is left in tmpDir')
  } finally {
    if (!closed) await Promise.all([one.app.close(), two.app.close()])
  }
})

test('per-process spool directories of processes that are gone are removed at start, those of living ones kept', async () => {
  const tmpDir = await sharedTmp()
  const exited = spawn(process.execPath, ['-e', ''])
  const deadPid = exited.pid as number
  await new Promise((resolve) => exited.once('exit', resolve))
  const dead = join(tmpDir, `formcall-spool-${UID}-${deadPid}-0-AbC123`)
  // A directory of this very process id from an earlier run (a restarted container's process 1, say).
  const earlierSelf = join(tmpDir, `formcall-spool-${UID}-${process.pid}-0-XyZ789`)
  const living = join(tmpDir, `formcall-spool-${UID}-${process.ppid}-0-LiV456`)
  const foreign = join(tmpDir, 'someone-elses-dir')
  for (const dir of [dead, earlierSelf, living, foreign]) {
    await mkdir(dir, { mode: 0o700 })
    await writeFile(join(dir, 'capacitor-00112233445566778899aabbccddeeff.tmp'), '')
  }
  const { app } = await listen({ tmpDir })
  try {
    const left = (await readdir(tmpDir)).sort()
    assert.ok(!left.includes(`formcall-spool-${UID}-${deadPid}-0-AbC123`), 'a dead process\'s directory is removed')
    assert.ok(!left.includes(`formcall-spool-${UID}-${process.pid}-0-XyZ789`), 'an earlier process with this id left it')
    assert.ok(left.includes(`formcall-spool-${UID}-${process.ppid}-0-LiV456`), 'a living process\'s directory is kept')
    assert.ok(left.includes('someone-elses-dir'), 'other directories are not touched')
    assert.equal((await processDirectoriesIn(tmpDir)).length, 2, 'the living one and this server\'s own')
  } finally {
    await app.close()
  }
})

/** How the crashed server was told where to spool, and how the next server is. */
const CRASHES: Array<{ what: string, setup: () => Promise<{ flags: string[], options: Omit<CreateServerOptions, 'methods'>, root: string }> }> = [
  {
    what: 'a named --spool-dir',
    setup: async () => {
      const spoolDirectory = freshPath('crash-named')
      return { flags: ['--spool-dir', spoolDirectory], options: { spoolDirectory }, root: spoolDirectory }
    }
  },
  {
    what: 'the per-process directory in a shared --tmp-dir',
    setup: async () => {
      const tmpDir = await sharedTmp()
      return { flags: ['--tmp-dir', tmpDir], options: { tmpDir }, root: tmpDir }
    }
  }
]

for (const row of CRASHES) {
  test(`spool files of a server killed with SIGKILL mid-upload (${row.what}) are removed by the next start`, async () => {
    const { flags, options, root } = await row.setup()
    const child = startChild(process.execPath,
      [...CLI_FROM_SOURCE, 'serve', fileURLToPath(POOL_METHODS), '--isolation', 'inline', '--port', '0', ...flags])
    let upload: PendingUpload | undefined
    try {
      const [, url] = await child.line(/listening on (\S+)/)
      upload = await uploadHeldInSpool(url as string)
      await waitFor(async () => (await spoolFilesUnder(root)).length > 0, 'the crashing server to spool the first file')
      child.process.kill('SIGKILL')
      assert.equal(await child.exited, 'SIGKILL')
    } finally {
      upload?.destroy()
      await child.stop()
    }
    const leftovers = await spoolFilesUnder(root)
    assert.ok(leftovers.length > 0, 'SIGKILL skips every cleanup: the spool file is left behind')

    const { app } = await listen(options)
    try {
      assert.deepEqual(await spoolFilesUnder(root), [], 'the next start removed the dead server\'s spool files')
    } finally {
      await app.close()
    }
    if (options.tmpDir !== undefined) assert.deepEqual(await readdir(root), [], 'and its directory')
  })
}
