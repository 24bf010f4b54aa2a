import { request, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import { cpuSince, type UploadDone, type UploadJob } from '../support/messages.js'

/** The job of a load-client child process: its one JSON argument. */
export function readJob (): UploadJob {
  const arg = process.argv[2]
  if (arg === undefined) throw new Error('a bench load client needs its job as a JSON argument')
  return JSON.parse(arg) as UploadJob
}

/**
 * Runs one upload, times it from the start of the request to the end of the response, and sends the result to the
 * orchestrator. `upload` sends the request and resolves with the response status and body text.
 */
export async function reportUpload (upload: () => Promise<{ status: number, text: string }>): Promise<void> {
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  let done: UploadDone
  try {
    const { status, text } = await upload()
    const ms = performance.now() - start
    done = { type: 'upload', ms, status, counted: countedBytes(text), cpu: cpuSince(cpuStart) }
    if (status !== 200) done.error = `HTTP ${status}: ${text.slice(0, 300)}`
  } catch (err) {
    done = {
      type: 'upload',
      ms: performance.now() - start,
      status: 0,
      counted: null,
      cpu: cpuSince(cpuStart),
      error: (err as Error).message
    }
  }
  process.send?.(done, () => process.exit(0))
}

/** POSTs `body` to the job's server on a fresh connection and reads the answer whole. */
export async function postUpload (job: UploadJob, headers: OutgoingHttpHeaders, body: Readable): Promise<{ status: number, text: string }> {
  const req = request({ host: '127.0.0.1', port: job.port, path: job.path, method: 'POST', agent: false, headers })
  const response = responseOf(req)
  body.pipe(req)
  return await response
}

/** The response of a node:http request, read whole. */
export async function responseOf (req: ClientRequest): Promise<{ status: number, text: string }> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve)
    req.once('error', reject)
  })
  let text = ''
  res.setEncoding('utf8')
  for await (const chunk of res) text += chunk as string
  return { status: res.statusCode ?? 0, text }
}

/** `bytes` of a bare server's `{ bytes }` answer or of a formcall `{ result: { bytes } }` envelope. */
function countedBytes (text: string): number | null {
  try {
    const body = JSON.parse(text) as { bytes?: unknown, result?: { bytes?: unknown } }
    const bytes = body.result?.bytes ?? body.bytes
    return typeof bytes === 'number' ? bytes : null
  } catch {
    return null
  }
}
