import { jsonOnlyMultipart } from './support/generated-upload.js'
import { FORMCALL_VARIANTS } from './servers/formcall-variants.js'
import type { UploadRowSpec } from './rows/upload-row.js'
import { ECHO_CALL, echoCall, type BaselineServer, type SmallCallRowSpec } from './rows/small-call-row.js'

/**
 * The rows of the bench, in the order they run and print. Every formcall row is repeated for each entry of
 * FORMCALL_VARIANTS (the `mode` column); bare baselines run once (`mode` is `-`).
 */
export function uploadRows (clientNodeUnavailable: string | undefined): UploadRowSpec[] {
  const raw = { client: 'raw node:http', clientEntry: 'load/raw-multipart.ts', counts: 'part' as const }
  const upload: UploadRowSpec[] = [
    ...FORMCALL_VARIANTS.map((v): UploadRowSpec => ({
      ...raw,
      id: `upload/formcall/${v.mode}`,
      table: 'upload',
      mode: v.mode,
      server: 'formcall createServer',
      serverEntry: 'servers/formcall.ts',
      serverArgs: [v.mode]
    })),
    { ...raw, id: 'upload/fastify-busboy', table: 'upload', mode: '-', server: 'node:http + @fastify/busboy', serverEntry: 'servers/fastify-busboy.ts', serverArgs: [] },
    { ...raw, id: 'upload/busboy', table: 'upload', mode: '-', server: 'node:http + busboy 1.6', serverEntry: 'servers/busboy.ts', serverArgs: [] },
    { ...raw, id: 'upload/ceiling', table: 'upload', mode: '-', server: 'node:http req.resume()', serverEntry: 'servers/resume.ts', serverArgs: [], counts: 'body' }
  ]
  const clients = FORMCALL_VARIANTS.flatMap((v): UploadRowSpec[] => {
    const server = { table: 'clients' as const, mode: v.mode, server: 'formcall createServer', serverEntry: 'servers/formcall.ts', serverArgs: [v.mode], counts: 'part' as const }
    return [
      {
        ...server,
        id: `clients/client-node/${v.mode}`,
        client: 'client-node api.sink(Readable)',
        clientEntry: 'load/client-node.ts',
        ...(clientNodeUnavailable === undefined ? {} : { unavailable: clientNodeUnavailable })
      },
      { ...server, id: `clients/form-data/${v.mode}`, client: 'form-data .pipe(http.request)', clientEntry: 'load/form-data.ts' },
      // The same bytes from a file on disk, one-shot and resumable, each also with the connection dropped once at 50 %.
      ...fileUploads.map((f): UploadRowSpec => ({
        ...server,
        serverArgs: [v.mode, 'uploads'],
        id: `clients/client-node-${f.id}/${v.mode}`,
        client: f.client,
        clientEntry: 'load/client-node-file.ts',
        clientArgs: f.args,
        ...(clientNodeUnavailable === undefined ? {} : { unavailable: clientNodeUnavailable })
      }))
    ]
  })
  return [...upload, ...clients]
}

/** The file-upload variants of the clients table (load/client-node-file.ts). */
const fileUploads = [
  { id: 'file', client: 'client-node fileFromPath(p), one-shot', args: ['oneshot'] },
  { id: 'resumable', client: 'client-node fileFromPath(p, { resumable: true })', args: ['resumable'] },
  { id: 'file-cut', client: 'one-shot, cut at 50 %, sent again', args: ['oneshot', 'cut'] },
  { id: 'resumable-cut', client: 'resumable, cut at 50 %, resumed', args: ['resumable', 'cut'] }
] as const

/**
 * The RSS sweep's rows (`BENCH_RSS_SWEEP`): the formcall upload rows and their parser alone, as `rss/…` (the
 * sweep adds the size: `rss/formcall/inline/8GiB`). Same servers and load client as the upload table.
 */
export function rssSweepRows (): UploadRowSpec[] {
  return uploadRows(undefined)
    .filter((s) => s.table === 'upload' && (s.id.startsWith('upload/formcall/') || s.id === 'upload/fastify-busboy'))
    .map((s) => ({ ...s, id: s.id.replace(/^upload\//, 'rss/') }))
}

/**
 * The bare Fastify route as the server a formcall small-call row is measured alternately with: the ratios against
 * bare are the median of rounds a few seconds apart, each row against a bare server of its own started beside it.
 */
function bareServer (body: 'json' | 'multipart'): BaselineServer {
  return { id: `calls/bare-fastify-${body}`, serverEntry: 'servers/bare-fastify.ts', serverArgs: [] }
}

/**
 * The small-call rows: formcall's echo as a JSON and as a json-part-only multipart body (each measured alternately
 * with a bare Fastify route given the same body), the same echo with its param declared as a zod string (`echoZod`,
 * JSON body, measured alternately with the plain echo in one server), the bare Fastify route alone, for its
 * absolute rate, and the bare route handing the call to a piscina pool (alternately with bare Fastify), the floor of
 * a call that crosses to a worker thread.
 */
export function smallCallRows (): SmallCallRowSpec[] {
  const multipart = jsonOnlyMultipart(ECHO_CALL)
  return [
    ...FORMCALL_VARIANTS.flatMap((v): SmallCallRowSpec[] => [
      {
        id: `calls/formcall-json/${v.mode}`,
        mode: v.mode,
        server: 'formcall createServer',
        body: 'json',
        method: 'echo',
        serverEntry: 'servers/formcall.ts',
        serverArgs: [v.mode],
        contentType: 'application/json',
        payload: ECHO_CALL,
        pairedWith: { method: 'echo', payload: ECHO_CALL, baseline: bareServer('json') }
      },
      {
        id: `calls/formcall-json-zod/${v.mode}`,
        mode: v.mode,
        server: 'formcall, zod params',
        body: 'json',
        method: 'echoZod',
        serverEntry: 'servers/formcall.ts',
        // Only this row's server loads zod: a validator library in every worker's heap makes each garbage collection
        // of the upload rows' workers dearer (1 s more server CPU per GiB with 8 workers), which is not theirs to pay.
        serverArgs: [v.mode, 'schemas'],
        contentType: 'application/json',
        payload: echoCall('echoZod'),
        // Its ratio to the plain echo is the figure this row is for: both are measured in one server, alternately.
        pairedWith: { method: 'echo', payload: ECHO_CALL }
      },
      {
        id: `calls/formcall-multipart/${v.mode}`,
        mode: v.mode,
        server: 'formcall createServer',
        body: 'multipart',
        method: 'echo',
        serverEntry: 'servers/formcall.ts',
        serverArgs: [v.mode],
        contentType: multipart.contentType,
        payload: multipart.body,
        pairedWith: { method: 'echo', payload: multipart.body, baseline: bareServer('multipart') }
      }
    ]),
    {
      id: 'calls/bare-fastify-json',
      mode: '-',
      server: 'bare Fastify route',
      body: 'json',
      method: 'echo',
      serverEntry: 'servers/bare-fastify.ts',
      serverArgs: [],
      contentType: 'application/json',
      payload: ECHO_CALL
    },
    {
      // The floor of the worker rows: a pooled thread's round trip on this machine, beside bare Fastify in rounds.
      id: 'calls/fastify-piscina-json',
      mode: '-',
      server: 'Fastify + piscina',
      body: 'json',
      method: 'echo',
      serverEntry: 'servers/fastify-piscina.ts',
      serverArgs: [],
      contentType: 'application/json',
      payload: ECHO_CALL,
      pairedWith: { method: 'echo', payload: ECHO_CALL, baseline: bareServer('json') }
    },
    {
      id: 'calls/bare-fastify-multipart',
      mode: '-',
      server: 'bare Fastify route',
      body: 'multipart',
      method: 'echo',
      serverEntry: 'servers/bare-fastify.ts',
      serverArgs: [],
      contentType: multipart.contentType,
      payload: multipart.body
    }
  ]
}
