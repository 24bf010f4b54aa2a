import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FileStore } from '@tus/file-store'
import { Server as TusServer } from '@tus/server'
import { ErrorCode, RpcError, UPLOAD_TOKEN_HEADER, UPLOADS_SUBPATH } from '@formcall/spec'
import type { OriginPolicy } from '../route/origin-policy.js'
import { sendError } from '../respond/send-outcome.js'
import { guardUploadPace } from './upload-pace-guard.js'
import type { UploadTokens } from './upload-tokens.js'
import type { UploadAdmission, UploadRequestInfo } from './upload-admission.js'

/** The HTTP methods of tus 1.0 core, creation, termination and discovery. */
const TUS_METHODS = ['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** What {@link mountTusEndpoint} needs. */
export interface TusEndpointOptions {
  /** The call endpoint's path (`/rpc`); the uploads live below it. */
  readonly path: string
  readonly directory: string
  readonly maxSize: number
  readonly expireAfter: number
  readonly tokens: UploadTokens
  /** Which requests are taken: the `beforeUpload` hook, the store's bounds. */
  readonly admission: UploadAdmission
  readonly origins: OriginPolicy
  readonly log: FastifyBaseLogger
  /** How a request body must keep moving (the call endpoint's `idleUploadTimeout` and `minUploadRate`). */
  readonly pace: { window: number, minRate: number }
}

/**
 * Mounts a tus 1.0 endpoint (@tus/server over @tus/file-store) at `<path>/uploads/` in a scope of its own, so the
 * call endpoint's content-type parsers and method checks do not apply to it and its own do not leak onto the call
 * endpoint. The request is handed to the tus server whole (Fastify reads no body here), after the browser origin
 * check of the call endpoint; the answer to a creation carries the upload's capability token in `Upload-Token`.
 *
 * @example
 * ```ts
 * await app.register(async (scope) => mountTusEndpoint(scope, { path: '/rpc', directory, maxSize, expireAfter, tokens, origins, log }))
 * ```
 */
export function mountTusEndpoint (scope: FastifyInstance, options: TusEndpointOptions): TusEndpoint {
  const { origins, log, tokens, admission } = options
  const base = `${options.path === '/' ? '' : options.path}${UPLOADS_SUBPATH}`
  const tus = new TusServer({
    // The path as the client sees it: Location headers and upload ids are read against it.
    path: `${scope.prefix}${base}`,
    datastore: new FileStore({ directory: options.directory, expirationPeriodInMilliseconds: options.expireAfter }),
    maxSize: options.maxSize,
    // A relative Location survives a reverse proxy that changes the scheme or host; tus clients resolve it against
    // the endpoint they posted to.
    relativeLocation: true,
    respectForwardedHeaders: false,
    // CORS is the origin policy's (set on the raw response before tus writes): tus's own default allows any origin.
    allowedOrigins: () => false,
    exposedHeaders: [UPLOAD_TOKEN_HEADER, 'Upload-Expires'],
    onUploadCreate: async (req, upload) => {
      // The creation's answer is written by the tus server; the token goes onto the response it will write to.
      responseOf(req)?.setHeader(UPLOAD_TOKEN_HEADER, tokens.issue(upload.id))
      return {}
    },
    onResponseError: (_req, err) => {
      // tus's own refusals (409, 413, 404, …) carry their status; anything else is a fault whose message may name
      // server paths, so the client gets a plain 500 and the log gets the error.
      if ('status_code' in err && typeof err.status_code === 'number') return undefined
      log.error({ err }, 'formcall: the tus upload endpoint failed')
      return { status_code: 500, body: 'the upload could not be stored; retry later\n' }
    }
  })

  scope.removeAllContentTypeParsers()
  // The body is left unread: the tus server streams it to the upload's file.
  scope.addContentTypeParser('application/offset+octet-stream', (_req, _payload, done) => { done(null) })
  // Any other body too: tus decides (a PATCH must be application/offset+octet-stream, other methods ignore the type).
  scope.addContentTypeParser('*', (_req, _payload, done) => { done(null) })

  // Requests whose body is still arriving, to cut at shutdown.
  const receiving = new Set<IncomingMessage>()
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.method === 'OPTIONS') {
      // A preflight from a page that may not upload gets no allowance.
      if (origins.refusal(request) !== undefined) {
        await reply.code(403).send()
        return
      }
    } else {
      const refusal = origins.refusal(request)
      if (refusal !== undefined) {
        sendError(reply, null, new RpcError(ErrorCode.ORIGIN_NOT_ALLOWED, refusal))
        return
      }
      const refused = await admission.refusal(request, {
        method: request.method as UploadRequestInfo['method'],
        uploadId: (request.params as { id?: string }).id
      })
      if (refused !== undefined) {
        origins.decorate(request, reply)
        sendError(reply, null, refused)
        return
      }
    }
    // The origin policy's CORS headers, written onto the raw response the tus server answers on.
    origins.decorate(request, reply)
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value as string | number | string[])
    }
    reply.hijack()
    if (request.method === 'PATCH' || request.method === 'POST') {
      guardUploadPace(request.raw, options.pace)
      if (!request.raw.complete) {
        receiving.add(request.raw)
        request.raw.once('close', () => receiving.delete(request.raw))
      }
    }
    try {
      await tus.handle(request.raw, reply.raw)
    } catch (err) {
      log.error({ err }, 'formcall: the tus upload endpoint failed')
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('the upload failed; retry it\n')
      else reply.raw.destroy()
    }
  }
  for (const url of [base, `${base}/`, `${base}/:id`]) {
    scope.route({ method: [...TUS_METHODS], url, exposeHeadRoute: false, handler })
  }
  return {
    cutTransfers: () => {
      for (const request of receiving) request.socket?.destroy()
      receiving.clear()
    }
  }
}

/** A mounted tus endpoint. */
export interface TusEndpoint {
  /**
   * Cuts every request whose body is still arriving. A server that closes would otherwise wait for the end of each
   * upload in progress, which may be hours away; cut, the client resumes from the bytes stored, here or elsewhere.
   */
  cutTransfers (): void
}

/** The Node response under the tus server's web request (srvx keeps it at `runtime.node.res`). */
function responseOf (req: unknown): ServerResponse | undefined {
  const res = (req as { runtime?: { node?: { res?: unknown } } }).runtime?.node?.res
  return typeof (res as ServerResponse | undefined)?.setHeader === 'function' ? res as ServerResponse : undefined
}
