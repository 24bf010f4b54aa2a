import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { download, ErrorCode, type UploadedFile, type UploadedFiles } from '@formcall/server'
import { digestFile, randomContent, sha256 } from './support/bytes.js'
import { curl } from './support/curl.js'
import { startServer, type RunningServer } from './support/start-server.js'

describe('curl is a formcall client', () => {
  let server: RunningServer
  let dir = ''
  const generatedReport = randomContent(256 * 1024)

  const methods = {
    echo: (value: unknown) => value,
    math: { add: (a: number, b: number) => a + b },
    files: {
      describe: async (file: UploadedFile) => ({ filename: file.filename, type: file.type, ...(await digestFile(file)) }),
      describeAll: async (files: UploadedFiles) => {
        const out = []
        for await (const file of files) out.push({ filename: file.filename, ...(await digestFile(file)) })
        return out
      },
      store: async (meta: { title: string }, file: UploadedFile) => ({ title: meta.title, ...(await digestFile(file)) })
    },
    reports: {
      named: () => download(generatedReport, { filename: 'report-2024.bin', type: 'application/octet-stream' }),
      plain: () => Buffer.from('plain bytes')
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'formcall-curl-'))
    server = await startServer({ methods })
  })
  after(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('curl -F \'json={...}\' -F f=@file uploads a file the method reads intact, with its filename and type', async () => {
    const content = randomContent(5 * 1024 * 1024 + 3)
    await writeFile(join(dir, 'photo.png'), content)
    const call = { method: 'files.describe', params: [{ $file: 'f' }], id: 1 }
    const { stdout, code } = await curl(['-F', `json=${JSON.stringify(call)}`, '-F', 'f=@photo.png', server.url], { cwd: dir })
    assert.equal(code, 0)
    assert.deepEqual(JSON.parse(stdout), {
      jsonrpc: '2.0',
      id: 1,
      result: { filename: 'photo.png', type: 'image/png', size: content.length, sha256: sha256(content) }
    })
  })

  it('curl -F json=@call.json sends the call as a file part', async () => {
    const content = randomContent(1000)
    await writeFile(join(dir, 'data.bin'), content)
    await writeFile(join(dir, 'call.json'), JSON.stringify({ method: 'files.store', params: [{ title: 'from a file' }, { $file: 'upload' }] }))
    const { stdout } = await curl(['-F', 'json=@call.json', '-F', 'upload=@data.bin', server.url], { cwd: dir })
    assert.deepEqual(JSON.parse(stdout).result, { title: 'from a file', size: 1000, sha256: sha256(content) })
  })

  it('curl -F \'f=@file;type=…;filename=…\' passes the declared type and filename through', async () => {
    await writeFile(join(dir, 'local-name.txt'), 'a,b\n1,2\n')
    const { stdout } = await curl(['-F', 'json={"method":"files.describe","params":[{"$file":"f"}]}',
      '-F', 'f=@local-name.txt;type=text/csv;filename=sent as.csv', server.url], { cwd: dir })
    assert.deepEqual(JSON.parse(stdout).result, { filename: 'sent as.csv', type: 'text/csv', size: 8, sha256: sha256('a,b\n1,2\n') })
  })

  it('repeated curl -F docs=@… parts arrive as one {"$files": "docs"} list, in order', async () => {
    const contents = [randomContent(300 * 1024), randomContent(7), randomContent(100 * 1024)]
    for (const [i, content] of contents.entries()) await writeFile(join(dir, `doc${i}.bin`), content)
    const { stdout } = await curl(['-F', 'json={"method":"files.describeAll","params":[{"$files":"docs"}]}',
      '-F', 'docs=@doc0.bin', '-F', 'docs=@doc1.bin', '-F', 'docs=@doc2.bin', server.url], { cwd: dir })
    assert.deepEqual(JSON.parse(stdout).result, contents.map((content, i) => ({ filename: `doc${i}.bin`, size: content.length, sha256: sha256(content) })))
  })

  it('curl -F with a krpc-style "__file__:" part name works as the placeholder', async () => {
    await writeFile(join(dir, 'k.txt'), 'krpc style')
    const { stdout } = await curl(['-F', 'json={"method":"files.describe","params":["__file__:1700000000.5-0.25"]}',
      '-F', '__file__:1700000000.5-0.25=@k.txt', server.url], { cwd: dir })
    assert.equal(JSON.parse(stdout).result.sha256, sha256('krpc style'))
  })

  it('curl --data-urlencode json=… sends an urlencoded call', async () => {
    const { stdout } = await curl(['--data-urlencode', 'json={"method":"echo","params":["a & b = c?"],"id":"u"}', server.url])
    assert.deepEqual(JSON.parse(stdout), { jsonrpc: '2.0', id: 'u', result: 'a & b = c?' })
  })

  it('curl -H \'content-type: application/json\' -d … sends a JSON call, and a batch', async () => {
    const single = await curl(['-H', 'content-type: application/json', '-d', '{"method":"math.add","params":[20,22],"id":1}', server.url])
    assert.deepEqual(JSON.parse(single.stdout), { jsonrpc: '2.0', id: 1, result: 42 })
    const batch = await curl(['-H', 'content-type: application/json', '-d',
      '[{"jsonrpc":"2.0","method":"math.add","params":[1,2],"id":1},{"jsonrpc":"2.0","method":"echo","params":["n"]}]', server.url])
    assert.deepEqual(JSON.parse(batch.stdout), [{ jsonrpc: '2.0', id: 1, result: 3 }])
  })

  it('curl -OJ saves a download under the server\'s filename', async () => {
    const out = await mkdtemp(join(dir, 'oj-'))
    const { code, stderr } = await curl(['-OJ', '-H', 'content-type: application/json', '-d', '{"method":"reports.named"}', server.url], { cwd: out })
    assert.equal(code, 0, stderr)
    assert.deepEqual(await readdir(out), ['report-2024.bin'])
    assert.equal(sha256(await readFile(join(out, 'report-2024.bin'))), sha256(generatedReport))
  })

  it('curl -o saves a download to the given path, and -D shows it is a download', async () => {
    const { code } = await curl(['-o', 'plain.out', '-D', 'headers.txt', '-H', 'content-type: application/json', '-d', '{"method":"reports.plain"}', server.url], { cwd: dir })
    assert.equal(code, 0)
    assert.equal(await readFile(join(dir, 'plain.out'), 'utf8'), 'plain bytes')
    assert.match(await readFile(join(dir, 'headers.txt'), 'utf8'), /^x-formcall-download: 1\r$/mi)
  })

  it('curl -w \'%{http_code}\' sees an error\'s HTTP status, and the body holds its code', async () => {
    const notFound = await curl(['-o', 'error.json', '-w', '%{http_code}', '-H', 'content-type: application/json', '-d', '{"method":"nope","id":3}', server.url], { cwd: dir })
    assert.equal(notFound.stdout, '404')
    assert.equal(JSON.parse(await readFile(join(dir, 'error.json'), 'utf8')).error.code, ErrorCode.METHOD_NOT_FOUND)
    const missing = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-F', 'json={"method":"files.describe","params":[{"$file":"f"}]}', server.url])
    assert.equal(missing.stdout, '400')
    const wrongType = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: text/plain', '-d', 'hello', server.url])
    assert.equal(wrongType.stdout, '415')
  })

  it('curl --fail exits non-zero on an error status', async () => {
    const { code } = await curl(['--fail', '-o', '/dev/null', '-H', 'content-type: application/json', '-d', '{"method":"nope"}', server.url])
    assert.equal(code, 22)
  })

  // curl -F reads `;type=`, `;filename=` and the like after a `;` in the value, and a leading `@` or `<` as a file
  // to send: a call's JSON holding a `;` is cut there. These are the forms that send it as it is.
  const texts = ['a;b', ';type=text/html', '@not-a-file', '<neither']
  const awkward = { method: 'echo', params: [texts], id: 9 }

  it('curl -F \'json=…\' cuts a call whose JSON holds a semicolon: why the README does not use it', async () => {
    const { stdout } = await curl(['-F', `json=${JSON.stringify(awkward)}`, server.url])
    assert.notDeepEqual(JSON.parse(stdout).result, texts)
  })

  it('curl --form-string \'json=…\' sends the call as it is, semicolons, @ and < included', async () => {
    const { stdout } = await curl(['--form-string', `json=${JSON.stringify(awkward)}`, server.url])
    assert.deepEqual(JSON.parse(stdout), { jsonrpc: '2.0', id: 9, result: texts })
  })

  it('curl -F json=<call.json sends the call read from a file as a text field', async () => {
    await writeFile(join(dir, 'awkward.json'), JSON.stringify(awkward))
    const { stdout } = await curl(['-F', 'json=<awkward.json', server.url], { cwd: dir })
    assert.deepEqual(JSON.parse(stdout), { jsonrpc: '2.0', id: 9, result: texts })
  })

  it('the READMEs\' curl examples send the call with --form-string or from a file, never as -F \'json=…\'', async () => {
    for (const readme of ['../README.md', '../server/README.md', '../examples/cli-server/README.md', '../examples/fastify-plugin/README.md']) {
      const text = await readFile(new URL(readme, import.meta.url), 'utf8')
      const unsafe = text.split('\n').filter((line) => /curl .*-F '?json=[^@<]/.test(line))
      assert.deepEqual(unsafe, [], readme)
    }
  })
})
