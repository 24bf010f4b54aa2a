import { parsePlaceholder, parseUploadPlaceholder } from '@formcall/spec'
import { definitionOf } from './define-method.js'
import type { FileRule } from './file-params.js'
import { paramLimitError, type ParamRule } from '../bind/file-gate.js'
import { declaredParams } from './function-params.js'
import { paramsRefused } from './param-issues.js'

/**
 * What the HTTP side knows of a method's params, before any file is bound: plain data, so a worker pool's workers
 * can send it to the main thread when they start. A plain function has form `plain`; {@link defineMethod} gives the
 * others.
 */
export interface MethodShape {
  /**
   * How params reach the function: `plain` and `positional` take one argument per param (a named call to a
   * `positional` method is matched by name), `named` and `whole` take one argument (PROTOCOL.md section 2.3).
   */
  readonly form: 'plain' | 'positional' | 'named' | 'whole'
  /** The params' names, in order (positional: the function's parameter names, or `argN`). */
  readonly names: readonly string[]
  /** The most positional params the method takes; `undefined` when any number (a rest parameter, a native function). */
  readonly maxParams: number | undefined
  /** The file params, by position (`positional`) or name (`named`), with what they accept. */
  readonly files: ReadonlyArray<{ readonly at: number | string, readonly name: string, readonly rule: FileRule }>
}

/**
 * The shape of a methods object's function, found once per method.
 *
 * @example
 * ```ts
 * shapeOf((a, b) => a + b) // { form: 'plain', names: ['a', 'b'], maxParams: 2, files: [] }
 * ```
 */
export function shapeOf (fn: Function): MethodShape {
  const defined = definitionOf(fn)
  if (defined !== undefined) return defined.shape
  const declared = declaredParams(fn)
  return { form: 'plain', names: declared?.names ?? [], maxParams: declared?.max, files: [] }
}

/**
 * The arguments a call gives its method (PROTOCOL.md 2.3 and 12.2): positional params as they are, refused when more
 * than the method declares; named params as one object, except for a `positional` method, whose params are matched by
 * name.
 *
 * @throws RpcError INVALID_PARAMS
 */
export function arrangeArgs (shape: MethodShape, method: string, params: unknown, args: readonly unknown[]): readonly unknown[] {
  if (Array.isArray(params) || params === undefined) {
    if (shape.maxParams !== undefined && args.length > shape.maxParams) {
      throw paramsRefused(method, [{
        path: [shape.maxParams],
        message: `"${method.slice(0, 256)}" takes ${shape.maxParams === 0 ? 'no params' : `at most ${shape.maxParams} (${shape.names.join(', ')})`}; the call sent ${args.length}`
      }])
    }
    return args
  }
  if (shape.form !== 'positional') return args
  return byName(shape, method, params as Record<string, unknown>)
}

function byName (shape: MethodShape, method: string, params: Record<string, unknown>): unknown[] {
  const unknown = Object.keys(params).filter((key) => !shape.names.includes(key))
  if (unknown.length > 0) {
    throw paramsRefused(method, unknown.slice(0, 20).map((key) => ({
      path: [key.slice(0, 100)], message: `no such param; the params are ${shape.names.join(', ') || 'none'}`
    })))
  }
  const args = shape.names.map((name) => Object.hasOwn(params, name) ? params[name] : undefined)
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop()
  return args
}

/** Where a file param's rule applies: a part name, or an upload's id. */
export type RuleTarget = { readonly part: string } | { readonly upload: string }

/**
 * The file rules of a call: for each file param of the method, the part or upload its placeholder names. A required
 * file param that is missing, or filled with something other than a placeholder of its kind, refuses the call before
 * anything is bound.
 *
 * @throws RpcError INVALID_PARAMS
 */
export function fileRulesOf (shape: MethodShape, method: string, args: readonly unknown[]): Array<{ target: RuleTarget, param: ParamRule }> {
  const rules: Array<{ target: RuleTarget, param: ParamRule }> = []
  for (const { at, name, rule } of shape.files) {
    const value = typeof at === 'number' ? args[at] : ownValue(args[0], at)
    const refuse = (message: string): never => { throw paramsRefused(method, [{ path: [at], message }]) }
    if (value === undefined) {
      if (!rule.optional) refuse(`the file param "${name}" is required; send the file as a part and put {"${rule.kind === 'file' ? '$file' : '$files'}": "<part name>"} here`)
      continue
    }
    if (rule.kind === 'files' && Array.isArray(value)) {
      rules.push(...listRules(value, { rule, param: name }, refuse))
      continue
    }
    const placeholder = parsePlaceholder(value)
    if (placeholder !== undefined) {
      if ((placeholder.kind === 'one') !== (rule.kind === 'file')) {
        refuse(rule.kind === 'file' ? `"${name}" takes one file: write {"$file": "<part name>"}` : `"${name}" takes a list of files: write {"$files": "<part name>"}`)
      }
      rules.push({ target: { part: placeholder.part }, param: { rule, param: name } })
      continue
    }
    const upload = rule.kind === 'file' ? parseUploadPlaceholder(value) : undefined
    if (upload !== undefined) rules.push({ target: { upload: upload.id }, param: { rule, param: name } })
    else refuse(`"${name}" is a file param: put a file placeholder here, not a value`)
  }
  return rules
}

/**
 * The rules of a list param sent as an array of file placeholders (what formcall's clients send): one per item,
 * the array's length held to `maxCount` before anything is read.
 */
function listRules (items: readonly unknown[], param: ParamRule, refuse: (message: string) => never): Array<{ target: RuleTarget, param: ParamRule }> {
  const { maxCount } = param.rule
  if (maxCount !== undefined && items.length > maxCount) throw paramLimitError(param, undefined, 'maxCount', maxCount)
  return items.map((item) => {
    const placeholder = parsePlaceholder(item)
    if (placeholder?.kind === 'one') return { target: { part: placeholder.part }, param }
    const upload = parseUploadPlaceholder(item)
    if (upload !== undefined) return { target: { upload: upload.id }, param }
    return refuse(`"${param.param}" takes a list of files: each item must be {"$file": "<part name>"}`)
  })
}

function ownValue (record: unknown, key: string): unknown {
  if (typeof record !== 'object' || record === null || !Object.hasOwn(record, key)) return undefined
  return (record as Record<string, unknown>)[key]
}
