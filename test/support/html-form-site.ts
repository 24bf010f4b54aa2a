import { mkdir, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

/** One input of a test form. */
export type FormField =
  | { kind: 'text', name: string, id: string, value?: string }
  | { kind: 'hidden', name: string, value: string }
  | { kind: 'file', name: string, id: string, multiple?: boolean }

/** A page with one plain HTML form, no script. */
export interface FormPageSpec {
  /** Where the form posts: a path of the page's own server, or another server's URL. */
  action: string
  /** The call JSON in the hidden `json` input; `undefined` leaves the input out. */
  call: unknown
  fields: readonly FormField[]
  /** Puts the `json` input after the other fields, so the first part the browser sends is not `json`. */
  jsonLast?: boolean
}

/** The digest form's fields: a title, `tags` twice (an array of strings) and a file input taking several files. */
const DIGEST_FIELDS: readonly FormField[] = [
  { kind: 'text', name: 'title', id: 'title' },
  { kind: 'text', name: 'tags', id: 'tag-1' },
  { kind: 'text', name: 'tags', id: 'tag-2' },
  { kind: 'file', name: 'files', id: 'files', multiple: true }
]

/** A form whose method only leaves a record: whether it ran. */
export const MARK_FIELDS: readonly FormField[] = [
  { kind: 'text', name: 'note', id: 'note', value: 'should not be recorded' },
  { kind: 'file', name: 'attachment', id: 'attachment' }
]

/** The target of an off-site redirect, which the server must refuse. */
export const OFF_SITE = 'https://evil.example/'

/** The form pages of the test site, by file name. */
export const FORM_PAGES = {
  /** Digests the files, then sends the browser to /done.html. */
  'upload.html': { action: '/rpc', call: { method: 'forms.digest', redirect: '/done.html' }, fields: DIGEST_FIELDS },
  /** The same form without `redirect`: the server's result page. */
  'result.html': { action: '/rpc', call: { method: 'forms.digest' }, fields: DIGEST_FIELDS },
  /** The method throws its own RpcError. */
  'fail.html': { action: '/rpc', call: { method: 'forms.fail' }, fields: [{ kind: 'text', name: 'reason', id: 'reason', value: 'on purpose' }] },
  /** Asks to be redirected to another site. */
  'off-site.html': { action: '/rpc', call: { method: 'forms.mark', redirect: OFF_SITE }, fields: MARK_FIELDS },
  /** The file input before the hidden `json` input. */
  'file-first.html': { action: '/rpc', call: { method: 'forms.mark' }, fields: MARK_FIELDS, jsonLast: true },
  /** No `json` input at all. */
  'no-json.html': { action: '/rpc', call: undefined, fields: MARK_FIELDS }
} satisfies Record<string, FormPageSpec>

/** The page /done.html: where a successful upload's redirect leads. */
export const DONE_PAGE = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Sent</title></head>\n' +
  '<body><main data-page="done"><h1>Thank you, the files arrived.</h1><p><a href="/result.html">Send more</a></p></main></body></html>\n'

/**
 * The HTML of a page with the form `spec` describes. Its one script marks the page (`<html data-scripts="ran">`),
 * which shows whether the browser ran scripts; the form works without it.
 */
export function formPage (spec: FormPageSpec): string {
  const json = spec.call === undefined ? [] : [input({ kind: 'hidden', name: 'json', value: JSON.stringify(spec.call) })]
  const others = spec.fields.map(input)
  const inputs = spec.jsonLast === true ? [...others, ...json] : [...json, ...others]
  return '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>A form</title>\n' +
    '<script>document.documentElement.dataset.scripts = \'ran\'</script></head>\n<body><main>\n' +
    `<form method="post" enctype="multipart/form-data" action="${attribute(spec.action)}">\n${inputs.join('\n')}\n` +
    '<button type="submit" id="send">Send</button>\n</form>\n</main></body></html>\n'
}

/** Writes the test site's pages (every {@link FORM_PAGES} entry and /done.html) into `directory`. */
export async function writeFormSite (directory: string): Promise<void> {
  await mkdir(directory, { recursive: true })
  for (const [name, spec] of Object.entries(FORM_PAGES)) await writeFile(join(directory, name), formPage(spec))
  await writeFile(join(directory, 'done.html'), DONE_PAGE)
}

/** A plain HTTP server on 127.0.0.1 answering every GET with one page: another origin than the formcall server's. */
export interface OtherSite {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string
  close: () => Promise<void>
}

/**
 * Serves `html` on a port of its own, as another site whose page holds a form that posts to the formcall server.
 *
 * @example
 * ```ts
 * const site = await startOtherSite(formPage({ action: `${server.url}`, call: { method: 'forms.mark' }, fields }))
 * ```
 */
export async function startOtherSite (html: string): Promise<OtherSite> {
  const server = createHttpServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

function input (field: FormField): string {
  switch (field.kind) {
    case 'hidden':
      return `<input type="hidden" name="${attribute(field.name)}" value="${attribute(field.value)}">`
    case 'text':
      return `<label>${field.name} <input name="${attribute(field.name)}" id="${field.id}" value="${attribute(field.value ?? '')}"></label>`
    case 'file':
      return `<label>${field.name} <input type="file" name="${attribute(field.name)}" id="${field.id}"${field.multiple === true ? ' multiple' : ''}></label>`
  }
}

const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' }

/** `text` for a double-quoted attribute value: the call JSON's quotes become `&quot;`, which the browser undoes. */
function attribute (text: string): string {
  return text.replace(/[&"<>]/g, (char) => ATTRIBUTE_ESCAPES[char] as string)
}
