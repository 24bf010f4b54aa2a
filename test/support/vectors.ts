import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import type { Limits } from '@formcall/server'
import { multipartBody, type PartSpec } from './multipart.js'
import type { RawResponse } from './raw-http.js'

/** The directory of the protocol vectors. */
export const VECTORS_DIR = new URL('../../spec/vectors/', import.meta.url)

/** One row of a vector file (spec/vectors/README.md describes the format). */
export interface Vector {
  what: string
  limits?: Partial<Limits>
  options?: { enableGet?: boolean, exposeErrors?: boolean, allowedOrigins?: string[], allowedHosts?: string[], path?: string, beforeCall?: string }
  request: {
    method: string
    path: string
    headers: Record<string, string>
    body?: string
    bodyBase64?: string
    parts?: PartSpec[]
  }
  expected: {
    status: number
    body?: unknown
    bodyText?: string
    /** The JSON text of the response's `id` member (a list of them, one per entry, for a batch), exactly as sent. */
    idText?: string | string[]
    headers?: Record<string, string | null>
  }
}

/** A vector file: a description and its rows. */
export interface VectorFile {
  name: string
  description: string
  vectors: Vector[]
}

/** Reads `index.json` and every file it lists, in its order. */
export async function loadVectorFiles (): Promise<{ index: { files: string[] }, files: VectorFile[] }> {
  const index = JSON.parse(await readFile(new URL('index.json', VECTORS_DIR), 'utf8')) as { files: string[] }
  const files: VectorFile[] = []
  for (const name of index.files) {
    const content = JSON.parse(await readFile(new URL(name, VECTORS_DIR), 'utf8')) as Omit<VectorFile, 'name'>
    files.push({ name, ...content })
  }
  return { index, files }
}

/** The header of `headers` named `name`, whatever its case. */
export function headerOf (headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value
  return undefined
}

/** The exact body bytes a vector sends: `body` as UTF-8, `bodyBase64` decoded, or `parts` framed with the boundary of its Content-Type. */
export function vectorBody (request: Vector['request']): Buffer | undefined {
  if (request.body !== undefined) return Buffer.from(request.body, 'utf8')
  if (request.bodyBase64 !== undefined) return Buffer.from(request.bodyBase64, 'base64')
  if (request.parts !== undefined) {
    const type = headerOf(request.headers, 'content-type') ?? ''
    const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type)
    if (match === null) throw new Error(`vector with parts but no boundary in Content-Type "${type}"`)
    return multipartBody(match[1] ?? match[2] as string, request.parts)
  }
  return undefined
}

/**
 * `actual` cut down to the members `expected` names, so `deepStrictEqual(project(actual, expected), expected)` is a
 * subset match with a readable diff. Arrays must match in length and element by element.
 */
export function project (actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return actual.map((item, i) => (i < expected.length ? project(item, expected[i]) : item))
  }
  if (isPlainObject(expected) && isPlainObject(actual)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(expected)) {
      if (Object.hasOwn(actual, key)) out[key] = project(actual[key], expected[key])
    }
    return out
  }
  return actual
}

/**
 * The JSON text of each `"id"` member in a response body, in order. The rows that compare ids keep every other
 * `"id"` out of their results (or after the envelope's own), so the members found are the envelopes' ids.
 */
function idTexts (text: string): string[] {
  return [...text.matchAll(/"id"\s*:\s*(-?[0-9][0-9.eE+-]*|null|"(?:[^"\\]|\\.)*")/g)].map((match) => match[1] as string)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Asserts a response against a vector's `expected`. */
export function assertExpected (res: RawResponse, expected: Vector['expected']): void {
  const context = `${res.status} ${res.text.slice(0, 500)}`
  assert.equal(res.status, expected.status, `status; response was ${context}`)
  if (expected.bodyText !== undefined) assert.equal(res.text, expected.bodyText, 'body text')
  if (expected.idText !== undefined) {
    // JSON.parse cannot tell 1.0 from 1, nor keep digits past 2^53: the ids are compared as the text on the wire.
    const texts = idTexts(res.text)
    if (Array.isArray(expected.idText)) assert.deepEqual(texts, expected.idText, `ids; response was ${context}`)
    else assert.equal(texts[0], expected.idText, `id; response was ${context}`)
  }
  if (expected.body !== undefined) {
    let body: unknown
    try {
      body = res.json()
    } catch {
      assert.fail(`the body is not JSON: ${context}`)
    }
    assert.deepStrictEqual(project(body, expected.body), expected.body)
  }
  for (const [name, value] of Object.entries(expected.headers ?? {})) {
    const actual = res.headers[name.toLowerCase()]
    if (value === null) {
      assert.equal(actual, undefined, `header ${name} must be absent`)
    } else if (!value.includes(';') && actual !== undefined) {
      // A value without parameters is compared with the media type only (charset and the like may follow).
      assert.equal(actual.split(';')[0]?.trim(), value, `header ${name}`)
    } else {
      assert.equal(actual, value, `header ${name}`)
    }
  }
}
