import { Transform, type Readable, type TransformCallback } from 'node:stream'
import { ErrorCode, RpcError } from '@formcall/spec'
import type { FileRule } from '../shape/file-params.js'
import { PART_HIGH_WATER_MARK } from '../parse/part-buffer.js'

/** A file param's rule, with the param's name for the errors. */
export interface ParamRule {
  readonly rule: FileRule
  readonly param: string
}

/** Bytes the format sniffer looks at: enough for every signature it knows (file-type's sample size). */
export const SNIFF_BYTES = 4100

type Sniffer = typeof import('file-type')
let sniffer: Promise<Sniffer> | undefined
/** file-type, loaded when a rule first needs it: servers and workers without `accept` rules never load it. */
const loadSniffer = async (): Promise<Sniffer> => await (sniffer ??= import('file-type'))

/**
 * Whether `type` (a declared `Content-Type`, parameters ignored) is in `accept`'s media ranges.
 *
 * @example
 * ```ts
 * mediaTypeAccepted(['image/*'], 'image/png; q=1') // true
 * ```
 */
export function mediaTypeAccepted (accept: readonly string[], type: string): boolean {
  const essence = type.split(';', 1)[0]?.trim().toLowerCase() ?? ''
  const major = essence.split('/', 1)[0]
  return accept.some((range) => range === '*/*' || range === essence || (range.endsWith('/*') && range.slice(0, -2) === major))
}

/** The refusal of a file whose declared or sniffed type its param does not accept. */
function typeRefused (param: ParamRule, part: string, type: string, how: 'declared' | 'detected'): RpcError {
  const accept = param.rule.accept ?? []
  return new RpcError(ErrorCode.FILE_TYPE_NOT_ACCEPTED,
    `the file for param "${param.param}" is ${type === '' ? 'of no known type' : `${type} (${how})`}, and it accepts ` +
    `${accept.join(', ')}; send a file of one of those types`,
    { param: param.param, part, [how]: type, accept })
}

/**
 * Checks a file's declared type against its param's rule, before any byte is read.
 *
 * @returns the refusal, or undefined when the type is accepted.
 */
export function declaredTypeRefusal (param: ParamRule, part: string, type: string): RpcError | undefined {
  const { accept } = param.rule
  if (accept === undefined || mediaTypeAccepted(accept, type)) return undefined
  return typeRefused(param, part, type, 'declared')
}

/** The refusal of a file over its param's `maxSize` or of a list over its `maxCount`. */
export function paramLimitError (param: ParamRule, part: string | undefined, limit: 'maxSize' | 'maxCount', max: number): RpcError {
  return new RpcError(ErrorCode.LIMIT_EXCEEDED, limit === 'maxSize'
    ? `the file for param "${param.param}" is larger than its ${max}-byte maximum; send a smaller file`
    : `param "${param.param}" takes at most ${max} files; send fewer`,
  { limit, max, param: param.param, ...(part === undefined ? {} : { part }) })
}

/**
 * A part's bytes on their way to the method, held to its param's rule: fails at the first byte over `maxSize`, and
 * when `accept` names formats the sniffer knows, holds back the first bytes until they show an accepted format (the
 * method reads nothing of a file that is refused). Put in a part's path only when its param has such a rule.
 */
export class FileGate extends Transform {
  readonly #param: ParamRule
  readonly #part: string
  readonly #max: number
  #seen = 0
  /** The first bytes, while they are being sniffed; undefined once the format is settled. */
  #head: Buffer[] | undefined

  constructor (param: ParamRule, part: string) {
    super({ highWaterMark: PART_HIGH_WATER_MARK })
    this.#param = param
    this.#part = part
    this.#max = param.rule.maxSize ?? Infinity
    this.#head = sniffs(param.rule) ? [] : undefined
  }

  /** Whether a part under `rule` needs a gate at all, given the server's own per-file limit. */
  static needed (rule: FileRule, serverMax: number): boolean {
    return (rule.maxSize !== undefined && rule.maxSize < serverMax) || sniffs(rule)
  }

  /** `part` through a gate, whose failure goes to `fail` (the request's). */
  static apply (part: Readable, param: ParamRule, name: string, fail: (err: Error) => void): Readable {
    const gate = new FileGate(param, name)
    gate.on('error', fail)
    return part.pipe(gate)
  }

  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#seen += chunk.length
    if (this.#seen > this.#max) {
      callback(paramLimitError(this.#param, this.#part, 'maxSize', this.#max))
      return
    }
    const head = this.#head
    if (head === undefined) {
      callback(null, chunk)
      return
    }
    head.push(chunk)
    if (this.#seen < SNIFF_BYTES) callback()
    else this.#sniff(callback)
  }

  override _flush (callback: TransformCallback): void {
    if (this.#head === undefined) callback()
    else this.#sniff(callback)
  }

  #sniff (callback: TransformCallback): void {
    const head = Buffer.concat(this.#head ?? [])
    this.#head = undefined
    headRefusal(this.#param, this.#part, head).then((refusal) => {
      if (refusal !== undefined) callback(refusal)
      else callback(null, head)
    }, (err: unknown) => callback(err as Error))
  }
}

/**
 * Checks a file's first bytes (up to {@link SNIFF_BYTES}) against its param's `accept`, when the rule sniffs.
 *
 * @returns the refusal, or undefined when the bytes show no format the param refuses.
 */
export async function headRefusal (param: ParamRule, part: string, head: Uint8Array): Promise<RpcError | undefined> {
  if (!sniffs(param.rule)) return undefined
  const { fileTypeFromBuffer, supportedMimeTypes } = await loadSniffer()
  const found = await fileTypeFromBuffer(head.subarray(0, SNIFF_BYTES))
  return sniffedRefusal(param, part, found?.mime, supportedMimeTypes)
}

/** Whether a rule's `accept` can be checked against the bytes: it names something narrower than any type. */
function sniffs (rule: FileRule): boolean {
  return rule.accept !== undefined && !rule.accept.includes('*/*')
}

/**
 * The refusal a sniffed format earns: a recognised format must be accepted; an unrecognised one is refused only when
 * every accepted type is one the sniffer would have recognised (a "PNG" that is not one), never for text formats or
 * wildcards, whose bytes it cannot tell.
 */
function sniffedRefusal (param: ParamRule, part: string, detected: string | undefined,
  recognised: ReadonlySet<string>): RpcError | undefined {
  const accept = param.rule.accept ?? []
  if (detected !== undefined) return mediaTypeAccepted(accept, detected) ? undefined : typeRefused(param, part, detected, 'detected')
  return accept.every((range) => recognised.has(range)) ? typeRefused(param, part, '', 'detected') : undefined
}
