import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec'
import { FILE_BRAND, FILES_BRAND, hasBrand } from '@formcall/spec'
import { UploadedFiles, type UploadedFile } from '../bind/uploaded-file.js'

/**
 * What a file parameter accepts. Every constraint is enforced by the server while the bytes stream, before and
 * beside the method: it is also a per-call limit, tighter than the server's own `limits`.
 */
export interface FileConstraints {
  /** The most bytes the file may have: the upload fails at the byte after it (`-32004`, `data.limit: "maxSize"`). */
  readonly maxSize?: number
  /**
   * Media types accepted, as `type/subtype`, `type/*` or `*\/*` (parameters such as `; charset` are ignored). The
   * part's declared `Content-Type` must match, and when the first bytes identify a format, that format must match
   * too (`-32020` before the method reads a byte).
   */
  readonly accept?: readonly string[]
  /** The parameter may be left out (absent or `undefined`); a file parameter is required otherwise (`-32602`). */
  readonly optional?: boolean
}

/** What a file-list parameter (`{"$files": name}`) accepts: each file's constraints, and how many. */
export interface FileListConstraints extends FileConstraints {
  /** The most files the list may hold (`-32004`, `data.limit: "maxCount"`). */
  readonly maxCount?: number
}

/** A file parameter's constraints in the form the HTTP side enforces them: plain data, sent across threads. */
export interface FileRule {
  readonly kind: 'file' | 'files'
  readonly maxSize?: number
  readonly accept?: readonly string[]
  readonly optional: boolean
  readonly maxCount?: number
}

const FILE_RULE = Symbol.for('formcall.fileRule')

/** A Standard Schema for one file parameter, carrying its constraints for the server. */
export interface FileParamSchema<T> extends StandardSchemaV1<T, T>, StandardJSONSchemaV1<T, T> {
  readonly '~standard': StandardSchemaV1.Props<T, T> & StandardJSONSchemaV1.Props<T, T>
  /** @internal */
  readonly [FILE_RULE]: FileRule
}

/** The value a file parameter takes: optional ones may be undefined. */
type Maybe<T, C> = C extends { optional: true } ? T | undefined : T

/**
 * A file parameter for {@link defineMethod}'s `params`: the method receives an `UploadedFile`, and the typed clients
 * accept a `File`, `Blob`, stream or path there.
 *
 * @throws TypeError when a constraint is not what the type says (a negative size, a malformed media type).
 * @example
 * ```ts
 * defineMethod({ params: { title: z.string(), photo: file({ maxSize: 5 * 2 ** 20, accept: ['image/png', 'image/jpeg'] }) } },
 *   async ({ title, photo }) => ({ title, bytes: (await photo.bytes()).length }))
 * ```
 */
export function file<const C extends FileConstraints = {}> (constraints?: C): FileParamSchema<Maybe<UploadedFile, C>> {
  return fileParam('file', constraints ?? {})
}

/**
 * A parameter taking a list of files: every part sent under one name (`{"$files": name}`, what curl and forms send for
 * an `<input type=file multiple>`) or an array of file placeholders (what formcall's clients send for an array of
 * files). The method receives an `UploadedFiles` either way; the constraints apply to each file, `maxCount` to the
 * list.
 *
 * @example
 * ```ts
 * defineMethod({ params: { photos: files({ maxCount: 10, accept: ['image/*'] }) } }, async ({ photos }) => { … })
 * ```
 */
export function files<const C extends FileListConstraints = {}> (constraints?: C): FileParamSchema<Maybe<UploadedFiles, C>> {
  return fileParam('files', constraints ?? {})
}

/** The rule a schema carries when it is a {@link file} or {@link files} parameter. */
export function fileRuleOf (schema: unknown): FileRule | undefined {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) return undefined
  return (schema as { [FILE_RULE]?: FileRule })[FILE_RULE]
}

function fileParam<T> (kind: 'file' | 'files', constraints: FileListConstraints): FileParamSchema<T> {
  const rule = fileRule(kind, constraints)
  const brand = kind === 'file' ? FILE_BRAND : FILES_BRAND
  const expected = kind === 'file'
    ? 'expected a file: send it as a multipart part and put {"$file": "<part name>"} here'
    : 'expected a list of files: send them as parts of one name and put {"$files": "<part name>"} here'
  const jsonSchema = (): Record<string, unknown> => fileJsonSchema(rule)
  return {
    [FILE_RULE]: rule,
    '~standard': {
      version: 1,
      vendor: 'formcall',
      validate: (value) => {
        if (hasBrand(value, brand) || (value === undefined && rule.optional)) return { value: value as T }
        if (kind === 'files' && isFileArray(value)) return { value: listOf(value) as T }
        return { issues: [{ message: expected }] }
      },
      jsonSchema: { input: jsonSchema, output: jsonSchema }
    }
  }
}

function isFileArray (value: unknown): value is UploadedFile[] {
  return Array.isArray(value) && value.every((item) => hasBrand(item, FILE_BRAND))
}

/** An array of file objects as the one list type a `files()` param gives, so a method meets one shape. */
function listOf (files: UploadedFile[]): UploadedFiles {
  return new UploadedFiles(files[0]?.field ?? '', (async function * () { yield * files })())
}

const MEDIA_RANGE = /^(?:\*\/\*|[a-z0-9!#$&^_.+-]+\/(?:\*|[a-z0-9!#$&^_.+-]+))$/i

function fileRule (kind: 'file' | 'files', constraints: FileListConstraints): FileRule {
  if (typeof constraints !== 'object' || constraints === null) throw new TypeError(`${kind}() takes an object of constraints`)
  const { maxSize, accept, optional, maxCount } = constraints
  const count = (name: string, value: unknown): void => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
      throw new TypeError(`${kind}({ ${name} }) must be a whole number of ${name === 'maxSize' ? 'bytes' : 'files'} ≥ 0; got ${String(value)}`)
    }
  }
  count('maxSize', maxSize)
  if (kind === 'files') count('maxCount', maxCount)
  else if (maxCount !== undefined) throw new TypeError('file() takes one file: maxCount is for files()')
  if (accept !== undefined) {
    if (!Array.isArray(accept) || accept.length === 0) throw new TypeError(`${kind}({ accept }) must be a non-empty array of media types such as "image/png" or "image/*"`)
    for (const range of accept) {
      if (typeof range !== 'string' || !MEDIA_RANGE.test(range)) {
        throw new TypeError(`${kind}({ accept }): "${String(range)}" is not a media type; write "type/subtype", "type/*" or "*/*"`)
      }
    }
  }
  if (optional !== undefined && typeof optional !== 'boolean') throw new TypeError(`${kind}({ optional }) must be a boolean`)
  return Object.freeze({
    kind,
    optional: optional === true,
    ...(maxSize === undefined ? {} : { maxSize }),
    ...(accept === undefined ? {} : { accept: Object.freeze(accept.map((range) => range.toLowerCase())) }),
    ...(maxCount === undefined ? {} : { maxCount })
  })
}

/**
 * The JSON Schema of a file parameter in a description (OpenRPC): binary content, with its constraints under
 * `x-formcall-file` (JSON Schema ignores keywords it does not know).
 */
function fileJsonSchema (rule: FileRule): Record<string, unknown> {
  const one: Record<string, unknown> = { type: 'string', format: 'binary', contentEncoding: 'binary' }
  if (rule.accept?.length === 1 && !rule.accept[0]?.includes('*')) one.contentMediaType = rule.accept[0]
  const constraints = {
    ...(rule.maxSize === undefined ? {} : { maxSize: rule.maxSize }),
    ...(rule.accept === undefined ? {} : { accept: rule.accept }),
    ...(rule.maxCount === undefined ? {} : { maxCount: rule.maxCount })
  }
  return rule.kind === 'file'
    ? { ...one, 'x-formcall-file': { kind: 'file', ...constraints } }
    : { type: 'array', items: one, ...(rule.maxCount === undefined ? {} : { maxItems: rule.maxCount }), 'x-formcall-file': { kind: 'files', ...constraints } }
}
