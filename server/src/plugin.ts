import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import fp from 'fastify-plugin'
import { CALL_FIELD_NAMES, ErrorCode, RpcError } from '@formcall/spec'
import { POOL_OPTIONS, resolveOptions, type FormcallOptions } from './options.js'
import { InlineExecutor } from './dispatch/inline-executor.js'
import { WorkerExecutor, type WorkerPoolOptions } from './dispatch/worker/worker-executor.js'
import { loadMethods } from './load-methods.js'
import type { Executor } from './dispatch/executor.js'
import { limitError } from './parse/multipart-errors.js'
import { PartHeaderMeter } from './parse/part-header-meter.js'
import { handleJsonCall } from './route/handle-json-call.js'
import { handleMultipartCall } from './route/handle-multipart-call.js'
import { DeadlineBoard, type CallClocks } from './route/deadline-board.js'
import { OriginPolicy } from './route/origin-policy.js'
import { sendError } from './respond/send-outcome.js'
import { DOWNLOAD_STORE, type DownloadStore } from './respond/send-download.js'
import { toRpcError } from './dispatch/outcome.js'
import { openSpoolDirectory } from './bind/spool-to-disk.js'
import { ResumableUploads } from './uploads/resumable-uploads.js'
import { discoveryAnswer } from './describe/discovery.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The formcall endpoint mounted on this instance. */
    formcall: { readonly path: string, readonly executor: Executor }
  }
}

const plugin: FastifyPluginAsync<FormcallOptions> = async (fastify, options) => {
  // Multipart part headers are measured inside busboy's parser: another busboy stops the start, not every upload.
  PartHeaderMeter.assertSupported()
  const settings = resolveOptions(options)
  // First, so an unsafe spool directory stops the start before any worker runs; the multipart handler spools into
  // settings.tmpDir.
  const spool = await openSpoolDirectory(options)
  settings.tmpDir = spool.path
  let uploads: ResumableUploads | undefined
  let executor: Executor
  try {
    // Before any worker runs too: an unsafe upload directory stops the start.
    if (settings.uploads !== undefined) uploads = await ResumableUploads.open(settings.uploads, fastify.log)
    executor = await chooseExecutor(options, fastify.log)
    await executor.start?.()
  } catch (err) {
    await uploads?.close()
    await spool.close()
    throw err
  }
  // The boards every call's deadlines are kept on (its body, its `json` part, its upload's windows).
  const clocks: CallClocks = { body: new DeadlineBoard(settings.bodyTimeout), uploadWindow: new DeadlineBoard(settings.idleUploadTimeout) }
  // After the listener and the executor closed (preClose): no call is left to spool or time.
  fastify.addHook('onClose', async () => {
    clocks.body.clear()
    clocks.uploadWindow.clear()
    await uploads?.close()
    await spool.close()
  })
  fastify.decorate('formcall', { path: settings.path, executor })
  // Before the listener closes: running calls get `shutdownTimeout` to finish, new ones are refused; uploads in
  // progress are cut at once (their clients resume from what was stored), else the close would wait for their end.
  fastify.addHook('preClose', async () => {
    uploads?.cutTransfers()
    await executor.close(settings.shutdownTimeout)
  })
  // What the call routes run calls with: with uploads, `$upload` placeholders bind to (and are checked against) them;
  // with discovery, `rpc.discover` is answered with the methods' OpenRPC document. Made once, not per request.
  const discover = settings.discover === undefined ? undefined : discoveryAnswer(executor, settings.discover)
  const route = { executor, settings, uploads, discover, clocks }
  const jsonRoute = { ...route, allowBatch: true }
  const fieldRoute = { ...route, allowBatch: false }
  const origins = new OriginPolicy(settings.allowedOrigins, settings.allowedHosts)
  // The tus endpoint at <path>/uploads/, in a scope of its own: the call scope's parsers and method checks are not its.
  if (uploads !== undefined) {
    const store = uploads
    await fastify.register(async (scope: FastifyInstance) => store.mount(scope, {
      path: settings.path,
      origins,
      pace: { window: settings.idleUploadTimeout, minRate: settings.minUploadRate }
    }))
  }

  // A child scope, so the content-type parsers and the error handler below apply to the formcall path only.
  await fastify.register(async (scope: FastifyInstance) => {
    const { limits } = settings
    // Downloads of unknown size to HTTP/1.0 clients are stored whole first (send-download.ts), beside the spool files.
    scope.decorate(DOWNLOAD_STORE, { directory: settings.tmpDir, maxBytes: limits.fileSize } satisfies DownloadStore)

    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: limits.callSize },
      (_req, body, done) => { done(null, body) })
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: limits.callSize },
      (_req, body, done) => { done(null, new URLSearchParams(body as string)) })
    // The body is left unread: the multipart handler streams it.
    scope.addContentTypeParser('multipart/form-data', (_req, _payload, done) => { done(null) })
    scope.addContentTypeParser('*', (req, _payload, done) => {
      done(new RpcError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `content type "${(req.headers['content-type'] ?? '').slice(0, 100)}" is not accepted; send multipart/form-data, application/json or application/x-www-form-urlencoded`))
    })

    scope.setErrorHandler((error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      sendError(reply, null, fastifyErrorToRpc(error, limits.callSize, settings.exposeErrors))
    })

    const allowed = settings.enableGet ? ['POST', 'GET', 'HEAD', 'OPTIONS'] : ['POST', 'OPTIONS']
    const notAllowed = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
      sendError(reply.header('allow', allowed.join(', ')), null, new RpcError(ErrorCode.HTTP_METHOD_NOT_ALLOWED,
        `${request.method} is not accepted; POST the call${settings.enableGet ? ' or GET with ?json=<call>' : ''}`))
    // Callback hooks, not async ones: every call passes here, and a promise per hook is a measurable share of a small
    // call's cost.
    scope.addHook('onRequest', (request, reply, done) => {
      // Before any body is read: a PUT with a large or oddly typed body is still answered 405, not 413 or 415.
      if (!allowed.includes(request.method)) {
        notAllowed(request, reply)
        return
      }
      if (request.method !== 'OPTIONS') {
        const refusal = origins.refusal(request)
        if (refusal !== undefined) {
          sendError(reply, null, new RpcError(ErrorCode.ORIGIN_NOT_ALLOWED, refusal))
          return
        }
        origins.decorate(request, reply)
      }
      // Here rather than in a preParsing hook of its own: a second hook every call passes cost JSON calls 11 % of
      // their rate.
      if (clocks.body.duration > 0) boundBodyTime(clocks.body, request, reply, request.raw)
      done()
    })

    // Not an async function: it hands Fastify the JSON call's own promise, and for a multipart call nothing (the call
    // answers through the reply). Each promise in the way is a microtask and, on Node 20, where the call context's
    // AsyncLocalStorage runs an async hook for every promise made, a measurable share of a small call. An answer sent
    // here returns undefined: a reply returned from a plain handler would be sent a second time.
    scope.post(settings.path, (request, reply): Promise<FastifyReply> | undefined => {
      if (isMultipart(request)) {
        handleMultipartCall(request, reply, route)
        return undefined
      }
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
      if (type === 'application/json') return handleJsonCall(request, reply, request.body as string, jsonRoute)
      if (type === 'application/x-www-form-urlencoded') {
        const form = request.body as URLSearchParams
        const text = firstOf(form, CALL_FIELD_NAMES)
        if (text !== undefined) return handleJsonCall(request, reply, text, { ...fieldRoute, form })
        sendError(reply, null, new RpcError(ErrorCode.INVALID_REQUEST, 'the urlencoded body has no "json" field; send json=<call>'))
        return undefined
      }
      sendError(reply, null, new RpcError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        'the request has no body or no content type; send multipart/form-data, application/json or application/x-www-form-urlencoded'))
      return undefined
    })

    scope.options(settings.path, async (request, reply) => origins.preflight(request, reply))

    scope.route({
      method: ['GET', 'PUT', 'DELETE', 'PATCH'],
      url: settings.path,
      handler: async (request, reply) => {
        // HEAD is GET without the body (Fastify strips it).
        if ((request.method === 'GET' || request.method === 'HEAD') && settings.enableGet) {
          const query = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1))
          const text = firstOf(query, CALL_FIELD_NAMES)
          if (text === undefined) {
            return sendError(reply, null, new RpcError(ErrorCode.INVALID_REQUEST, 'the query has no "json" parameter; send ?json=<call>'))
          }
          if (Buffer.byteLength(text) > limits.callSize) {
            return sendError(reply, null, limitError('callSize', limits.callSize, 'the "json" query parameter'))
          }
          return await handleJsonCall(request, reply, text, fieldRoute)
        }
        // Reached only by methods the onRequest hook let through; kept so every method has a clear answer.
        return notAllowed(request, reply)
      }
    })
  })
}

/**
 * Bounds the time the body of a JSON or urlencoded call may take to arrive: without a bound, a client that sends
 * headers and no body holds its connection forever. When it runs out, the body being read fails with UPLOAD_STALLED
 * (Fastify answers through the error handler). Multipart bodies are left as they are: their `json` part is timed by
 * the multipart handler, their files by the idle-upload timeout. A body that arrived whole already needs no deadline;
 * the others get an entry on the server's board of body deadlines, not a timer each.
 */
function boundBodyTime (deadlines: DeadlineBoard, request: FastifyRequest, reply: FastifyReply, payload: Readable): void {
  if (request.raw.complete || isMultipart(request)) return
  const deadline = deadlines.add(() => {
    // Nobody reads the body any more (answered early: 415, 405, 413): nothing to fail, and an 'error' event without a
    // listener would end the process.
    if (reply.sent || payload.listenerCount('error') === 0 || payload.readableEnded) return
    // The client is still connected but sends nothing more: answer, then close rather than wait for the rest.
    reply.header('connection', 'close')
    payload.emit('error', new RpcError(ErrorCode.UPLOAD_STALLED,
      `the request body did not arrive whole within ${deadlines.duration} ms (bodyTimeout); send the request again`))
  })
  // The request closes once its body was read, or with its connection: one listener covers both.
  payload.on('close', () => deadline.cancel())
}

function isMultipart (request: FastifyRequest): boolean {
  const type = request.headers['content-type']
  // A prefix test on the raw header, not a split: every call passes here twice.
  return type !== undefined && MULTIPART.test(type)
}

/** `multipart/form-data`, any case, alone or followed by parameters. */
const MULTIPART = /^\s*multipart\/form-data\s*(?:;|$)/i

async function chooseExecutor (options: FormcallOptions, log: FastifyBaseLogger): Promise<Executor> {
  if (options.executor !== undefined) return options.executor
  const { methods, methodsModule } = options
  const isolation = options.isolation ?? (methodsModule === undefined ? 'inline' : 'worker')
  if (isolation === 'worker') {
    if (methodsModule === undefined) {
      throw new TypeError('isolation "worker" needs `methodsModule` (a path or URL each worker imports); a `methods` object cannot cross threads')
    }
    const pool: Partial<WorkerPoolOptions> = {}
    for (const key of POOL_OPTIONS) if (options[key] !== undefined) Object.assign(pool, { [key]: options[key] })
    return new WorkerExecutor({ ...pool, methodsModule, exposeErrors: options.exposeErrors ?? false, log })
  }
  if (methods !== undefined) return new InlineExecutor(methods)
  if (methodsModule !== undefined) return new InlineExecutor(await loadMethods(String(methodsModule)))
  throw new TypeError('formcall needs `methods` (an object of functions), `methodsModule` (a module path) or an `executor`')
}

function firstOf (params: URLSearchParams, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = params.get(name)
    if (value !== null) return value
  }
  return undefined
}

/** Maps the errors Fastify raises while reading a body (before a handler runs) to registry codes. */
function fastifyErrorToRpc (error: FastifyError, callSize: number, expose: boolean): RpcError {
  if (error instanceof RpcError) return error
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return limitError('callSize', callSize, 'the request body')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RpcError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, error.message)
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new RpcError(ErrorCode.INVALID_REQUEST, 'the JSON body is empty; send a call')
    default:
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        return new RpcError(ErrorCode.INVALID_REQUEST, error.message)
      }
      return toRpcError(error, { fromMethod: false, expose })
  }
}

/**
 * The formcall Fastify plugin: mounts the call endpoint (POST, and GET when enabled) at `path` on an existing app.
 *
 * @example
 * ```ts
 * const app = Fastify()
 * await app.register(formcall, { methods, path: '/api/rpc' })
 * await app.listen({ port: 8080 })
 * ```
 */
export const formcall = fp(plugin, { fastify: '5.x', name: '@formcall/server' })
