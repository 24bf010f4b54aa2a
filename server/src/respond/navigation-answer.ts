import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { FastifyReply } from 'fastify'
import { errorInfo, httpStatusOf, type RpcError } from '@formcall/spec'

/**
 * Whether a request is a top-level browser navigation, such as a plain HTML form's submission (PROTOCOL.md 13.1):
 * `Sec-Fetch-Mode: navigate`, which every current browser sends for navigations and never for fetch/XHR; or, from a
 * browser that sends no fetch metadata, an `Accept` whose first media range is `text/html` (scripts and tools send
 * `*\/*` or `application/json`).
 *
 * @example
 * ```ts
 * isNavigation({ 'sec-fetch-mode': 'navigate' })  // true
 * isNavigation({ accept: '*\/*' })                // false
 * ```
 */
export function isNavigation (headers: IncomingHttpHeaders): boolean {
  const mode = headers['sec-fetch-mode']
  if (mode !== undefined) return mode === 'navigate'
  // Checked on every answer, so without splitting the header: its first range is "text/html" up to a , or ;.
  const accept = headers.accept
  if (accept === undefined || accept.length < 9 || accept.slice(0, 9).toLowerCase() !== 'text/html') return false
  return accept.length === 9 || accept[9] === ',' || accept[9] === ';' || accept[9] === ' '
}

/** Where a form's call asked its answer to send the browser (PROTOCOL.md 13.2), once checked. */
export interface FormTargets {
  readonly redirect?: string | undefined
  readonly errorRedirect?: string | undefined
}

/** The targets of the call each request carries, noted when the call is read: errors found later still see them. */
const TARGETS = new WeakMap<IncomingMessage, FormTargets>()

/** Notes the checked targets of the call `request` carries. */
export function noteFormTargets (request: IncomingMessage, targets: FormTargets): void {
  if (targets.redirect !== undefined || targets.errorRedirect !== undefined) TARGETS.set(request, targets)
}

/**
 * Answers a navigation's result: `303 See Other` to the call's `redirect`, else a page showing the result (its JSON,
 * escaped) with a link back.
 */
export function sendNavigationResult (reply: FastifyReply, resultJson: string): FastifyReply {
  const target = TARGETS.get(reply.request.raw)?.redirect
  if (target !== undefined) return redirect(reply, target)
  const pretty = JSON.stringify(JSON.parse(resultJson), null, 2)
  return page(reply, 200, {
    title: 'Done',
    kind: 'result',
    body: `<h1>Done</h1>\n<pre id="result">${escapeHtml(pretty)}</pre>`
  })
}

/**
 * Answers a navigation's error: `303` to the call's `errorRedirect`, else a page with the error's message and code,
 * with the status the code has for plain HTTP callers (a browser shows the page whatever the status).
 */
export function sendNavigationError (reply: FastifyReply, error: RpcError): FastifyReply {
  const target = TARGETS.get(reply.request.raw)?.errorRedirect
  if (target !== undefined) return redirect(reply, target)
  const name = errorInfo(error.code)?.name
  return page(reply, httpStatusOf(error.code, 'status'), {
    title: 'The call failed',
    kind: 'error',
    body: '<h1>The call failed</h1>\n' +
      `<p id="error-message">${escapeHtml(error.message)}</p>\n` +
      `<p>Code <code id="error-code">${error.code}</code>${name === undefined ? '' : ` (${escapeHtml(name)})`}</p>`
  })
}

function redirect (reply: FastifyReply, target: string): FastifyReply {
  return reply.code(303).header('location', target).header('cache-control', 'no-store').send()
}

/** A small page of the server's own: no script, no outside resources, framed nowhere. */
function page (reply: FastifyReply, status: number, content: { title: string, kind: 'result' | 'error', body: string }): FastifyReply {
  const back = backLink(reply.request.headers)
  const html = '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${escapeHtml(content.title)}</title>\n` +
    '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}' +
    'pre{background:#f4f4f6;padding:1rem;overflow:auto;border-radius:6px}[data-formcall=error] h1{color:#b3261e}</style>\n' +
    `</head>\n<body>\n<main data-formcall="${content.kind}">\n${content.body}\n` +
    `<p><a id="back" href="${escapeHtml(back)}">Back</a></p>\n</main>\n</body>\n</html>\n`
  return reply.code(status)
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html)
}

/** The page the form was on, when it is on this server's origin (its path only); else the site's root. */
function backLink (headers: IncomingHttpHeaders): string {
  const referer = headers.referer
  const host = headers.host
  if (referer === undefined || host === undefined) return '/'
  try {
    const url = new URL(referer)
    return url.host === host ? `${url.pathname}${url.search}` : '/'
  } catch {
    return '/'
  }
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string)
}
