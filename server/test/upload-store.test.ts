import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, symlink, utimes, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ErrorCode, RpcError } from '@formcall/spec'
import { openFinishedUpload } from '../src/uploads/open-finished-upload.js'
import { removeExpiredUploads } from '../src/uploads/remove-upload.js'
import { openUploadDirectory } from '../src/uploads/upload-directory.js'

const DAY = 24 * 3600_000

/** Writes an upload as @tus/file-store lays it out: the bytes as `<id>`, the record as `<id>.json`. */
async function storeUpload (dir: string, id: string, bytes: string, record: Record<string, unknown>): Promise<void> {
  await writeFile(join(dir, id), bytes)
  await writeFile(join(dir, `${id}.json`), JSON.stringify({ id, offset: 0, creation_date: new Date().toISOString(), ...record }))
}

function rpcCode (code: number): (err: unknown) => boolean {
  return (err: unknown) => err instanceof RpcError && err.code === code
}

describe('opening a finished upload for a call', () => {
  let dir = ''
  before(async () => { dir = await openUploadDirectory(await mkdtemp(join(tmpdir(), 'formcall-upload-store-'))) })
  after(async () => await rm(dir, { recursive: true, force: true }))

  test('a finished upload opens with the filename and type of its metadata, its bytes read from the open handle', async () => {
    await storeUpload(dir, 'a1', 'hello', { size: 5, metadata: { filename: 'h.txt', filetype: 'text/plain' } })
    const upload = await openFinishedUpload(dir, 'a1', { expireAfter: DAY })
    try {
      assert.deepEqual({ size: upload.size, filename: upload.filename, type: upload.type }, { size: 5, filename: 'h.txt', type: 'text/plain' })
      // Deleting the files after the check does not take the bytes from the call.
      await rm(join(dir, 'a1'))
      const chunks: Buffer[] = []
      for await (const chunk of upload.handle.createReadStream({ start: 0, end: 4, autoClose: false })) chunks.push(chunk as Buffer)
      assert.equal(Buffer.concat(chunks).toString(), 'hello')
    } finally {
      await upload.handle.close()
    }
  })

  test('Uppy\'s metadata names are read too, and an upload without metadata is a nameless octet stream', async () => {
    await storeUpload(dir, 'uppy', 'x', { size: 1, metadata: { name: 'v.mp4', type: 'video/mp4' } })
    await storeUpload(dir, 'bare', 'x', { size: 1 })
    const uppy = await openFinishedUpload(dir, 'uppy', { expireAfter: DAY })
    const bare = await openFinishedUpload(dir, 'bare', { expireAfter: DAY })
    await uppy.handle.close()
    await bare.handle.close()
    assert.deepEqual([uppy.filename, uppy.type, bare.filename, bare.type], ['v.mp4', 'video/mp4', null, 'application/octet-stream'])
  })

  test('what is not a finished, live upload of this directory is refused with its code', async () => {
    await storeUpload(dir, 'short', 'abc', { size: 10 })
    await storeUpload(dir, 'deferred', 'abc', {})
    await storeUpload(dir, 'old', 'abc', { size: 3, creation_date: new Date(Date.now() - 2 * DAY).toISOString() })
    await storeUpload(dir, 'undated', 'abc', { size: 3, creation_date: 'yesterday-ish' })
    await writeFile(join(dir, 'norecord'), 'abc')
    await writeFile(join(dir, 'outside.json'), JSON.stringify({ size: 3, creation_date: new Date().toISOString() }))
    await writeFile(join(dir, 'target'), 'abc')
    await symlink(join(dir, 'target'), join(dir, 'outside'))
    const cases: Array<[string, number]> = [
      ['short', ErrorCode.UPLOAD_INCOMPLETE],
      ['deferred', ErrorCode.UPLOAD_INCOMPLETE],
      ['old', ErrorCode.UPLOAD_EXPIRED],
      ['undated', ErrorCode.UPLOAD_EXPIRED],
      ['norecord', ErrorCode.UPLOAD_NOT_FOUND],
      ['missing', ErrorCode.UPLOAD_NOT_FOUND],
      ['../etc/passwd', ErrorCode.UPLOAD_NOT_FOUND],
      ['a1.json', ErrorCode.UPLOAD_NOT_FOUND],
      ['', ErrorCode.UPLOAD_NOT_FOUND]
    ]
    for (const [id, code] of cases) await assert.rejects(openFinishedUpload(dir, id, { expireAfter: DAY }), rpcCode(code), id)
    // A symbolic link planted in the directory is not followed.
    await assert.rejects(openFinishedUpload(dir, 'outside', { expireAfter: DAY }), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ELOOP')
    await assert.rejects(openFinishedUpload(dir, 'short', { expireAfter: DAY }), (err: unknown) =>
      err instanceof RpcError && JSON.stringify(err.data) === JSON.stringify({ upload: 'short', offset: 3, length: 10 }))
  })
})

describe('the sweep of expired uploads', () => {
  test('deletes uploads past their expiry, finished or not, and bytes whose record is missing or broken once they are old; leaves the rest', async () => {
    const dir = await openUploadDirectory(await mkdtemp(join(tmpdir(), 'formcall-upload-sweep-')))
    try {
      const past = new Date(Date.now() - 2 * DAY)
      const old = past.toISOString()
      await storeUpload(dir, 'oldfinished', 'abc', { size: 3, creation_date: old })
      await storeUpload(dir, 'oldpartial', 'a', { size: 3, creation_date: old })
      await storeUpload(dir, 'young', 'a', { size: 3 })
      await writeFile(join(dir, 'orphanold'), 'bytes of a creation cut short')
      await utimes(join(dir, 'orphanold'), past, past)
      await writeFile(join(dir, 'orphanyoung'), 'still being created')
      await writeFile(join(dir, 'broken.json'), '{ not json')
      await writeFile(join(dir, 'oldbroken'), 'abc')
      await writeFile(join(dir, 'oldbroken.json'), '{ not json')
      await utimes(join(dir, 'oldbroken.json'), past, past)
      await writeFile(join(dir, 'README.txt'), 'not an upload: the dot keeps it out of the id form')
      await utimes(join(dir, 'README.txt'), past, past)
      const removed = await removeExpiredUploads(dir, DAY)
      assert.equal(removed, 4)
      assert.deepEqual((await readdir(dir)).sort(), ['README.txt', 'broken.json', 'orphanyoung', 'young', 'young.json'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('the upload directory', () => {
  test('is created private, and refused when it is a symbolic link or open to others', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'formcall-upload-dir-'))
    try {
      const made = await openUploadDirectory(join(parent, 'a', 'b'))
      assert.equal(made, join(parent, 'a', 'b'))
      await symlink(made, join(parent, 'link'))
      await assert.rejects(openUploadDirectory(join(parent, 'link')), /is a symbolic link/)
      await writeFile(join(parent, 'file'), '')
      await assert.rejects(openUploadDirectory(join(parent, 'file')), /is not a directory/)
      await chmod(made, 0o750)
      await assert.rejects(openUploadDirectory(made), /is open to other users \(mode 0750\)/)
    } finally {
      await rm(parent, { recursive: true, force: true })
    }
  })
})
