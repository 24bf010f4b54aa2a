import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ErrorCode, RpcError } from '@formcall/spec'
import { activeCallContext } from '../dispatch/call-context.js'
import { declaredParams } from './function-params.js'
import { fileRuleOf } from './file-params.js'
import { paramsRefused, type ParamIssue } from './param-issues.js'
import type { MethodShape } from './method-shape.js'

/** Positional params: one schema per argument, in order. */
export type PositionalParams = readonly StandardSchemaV1[]
/** Named params: one schema per name; the method receives one object. */
export interface NamedParams { readonly [name: string]: StandardSchemaV1 }
/** What {@link defineMethod}'s `params` takes: positional, named, or one schema for the whole params value. */
export type ParamsDefinition = PositionalParams | NamedParams | StandardSchemaV1

/** A method's declaration: its params, its result, what discovery says of it. */
export interface MethodDefinition<P extends ParamsDefinition | undefined = ParamsDefinition | undefined,
  R extends StandardSchemaV1 | undefined = StandardSchemaV1 | undefined> {
  /**
   * The params' schemas: an array (positional: the method gets one argument per schema), an object of schemas (named:
   * the method gets one object; a call may send it by name or as the only positional param), or one schema for the
   * whole params value. Left out, the method takes no params.
   */
  readonly params?: P
  /** The result's schema: checked on the way out, and the result type of the typed clients. */
  readonly result?: R
  /** A line on what the method does, for discovery (OpenRPC `summary`). */
  readonly summary?: string
  /** A longer description, for discovery (OpenRPC `description`). */
  readonly description?: string
}

type In<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : never
type Out<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : never
type Flat<T> = { [K in keyof T]: T[K] } & {}
/** An object type whose keys are optional where their type allows `undefined`. */
type Named<P extends NamedParams, Side extends 'in' | 'out'> = Flat<{
  -readonly [K in keyof P as undefined extends (Side extends 'in' ? In<P[K]> : Out<P[K]>) ? never : K]: Side extends 'in' ? In<P[K]> : Out<P[K]>
} & {
  -readonly [K in keyof P as undefined extends (Side extends 'in' ? In<P[K]> : Out<P[K]>) ? K : never]?: Side extends 'in' ? In<P[K]> : Out<P[K]>
}>

/** The arguments a definition's params give: the client sends the schemas' input types, the method gets their outputs. */
export type ArgsOf<P, Side extends 'in' | 'out'> =
  P extends undefined ? []
    : P extends StandardSchemaV1 ? [Side extends 'in' ? In<P> : Out<P>]
      : P extends PositionalParams ? { -readonly [I in keyof P]: Side extends 'in' ? In<P[I]> : Out<P[I]> }
        // The method always gets an object; a client may leave it out when every param is optional.
        : P extends NamedParams ? ([Side, {}] extends ['in', Named<P, 'in'>] ? [params?: Named<P, 'in'>] : [params: Named<P, Side>])
          : never

/** The value a definition's result schema gives the client, or the method's own result without one. */
type ResultOf<R, Returned> = R extends StandardSchemaV1 ? Out<R> : Awaited<Returned>

/**
 * A method made by {@link defineMethod}: callable with the params a client sends (checked against the schemas), and
 * carrying its definition for the server and for discovery.
 */
export type DefinedMethod<P, R, Returned> = ((...args: ArgsOf<P, 'in'>) => Promise<ResultOf<R, Returned>>) & {
  readonly [METHOD_DEFINITION]: DefinitionRecord
}

/** What a defined method carries: its definition, checked, and its shape. */
export interface DefinitionRecord {
  readonly definition: MethodDefinition
  readonly shape: MethodShape
}

const METHOD_DEFINITION = Symbol.for('formcall.methodDefinition')

/** The record a {@link defineMethod} method carries, or undefined for a plain function. */
export function definitionOf (fn: unknown): DefinitionRecord | undefined {
  if (typeof fn !== 'function') return undefined
  return (fn as { [METHOD_DEFINITION]?: DefinitionRecord })[METHOD_DEFINITION]
}

/**
 * Declares a method's params (and result) with Standard Schema validators (zod 4, valibot, arktype, … or formcall's
 * {@link file} and {@link files}). The params are checked before the method starts, where the method runs (in its
 * worker, in worker mode): a failure answers `-32602` with the schema's issues in `data.issues`, each with its `path`
 * and `message` (PROTOCOL.md section 12), and the method receives the schemas' output (transforms apply). File
 * constraints are enforced by the server as the bytes arrive.
 *
 * @throws TypeError at definition (module load) when `params` or `result` is not a Standard Schema.
 * @example
 * ```ts
 * import { z } from 'zod'
 * import { defineMethod, file } from '@formcall/server/methods'
 *
 * export default {
 *   add: defineMethod({ params: [z.number(), z.number()], result: z.number() }, (a, b) => a + b),
 *   store: defineMethod({ params: { title: z.string().max(100), photo: file({ maxSize: 5e6, accept: ['image/*'] }) } },
 *     async ({ title, photo }) => ({ title, type: photo.type }))
 * }
 * ```
 */
export function defineMethod<const P extends ParamsDefinition | undefined = undefined, const R extends StandardSchemaV1 | undefined = undefined,
  Returned extends (R extends StandardSchemaV1 ? In<R> | Promise<In<R>> : unknown) = any> (
  definition: MethodDefinition<P, R>,
  implementation: (...args: ArgsOf<P, 'out'>) => Returned
): DefinedMethod<P, R, Returned> {
  if (typeof definition !== 'object' || definition === null) throw new TypeError('defineMethod() takes a definition object first, then the function')
  if (typeof implementation !== 'function') throw new TypeError('defineMethod() takes the method\'s function second')
  const params = ParamsChecker.of(definition.params, implementation)
  const result = definition.result === undefined ? undefined : schemaOf(definition.result, 'result')
  const fn = implementation as (...args: unknown[]) => unknown
  const method = function (this: unknown, ...args: unknown[]): unknown {
    const checked = params.check(args)
    const run = (values: unknown[]): unknown => {
      const value = fn.apply(this, values)
      return result === undefined ? value : then(value, (returned) => checkResult(result, returned))
    }
    return then(checked, run)
  }
  Object.defineProperty(method, 'name', { value: implementation.name })
  Object.defineProperty(method, METHOD_DEFINITION, { value: Object.freeze({ definition, shape: params.shape }) })
  return method as unknown as DefinedMethod<P, R, Returned>
}

/** Calls `next` with `value`, at once unless it is a promise: a synchronous schema costs no microtask. */
function then<T> (value: T | Promise<T>, next: (value: T) => unknown): unknown {
  return value instanceof Promise ? value.then(next) : next(value)
}

function schemaOf (value: unknown, where: string): StandardSchemaV1 {
  const props = (typeof value === 'object' || typeof value === 'function') && value !== null
    ? (value as Partial<StandardSchemaV1>)['~standard']
    : undefined
  if (typeof props !== 'object' || props === null || props.version !== 1 || typeof props.validate !== 'function') {
    throw new TypeError(`defineMethod(): ${where} is not a Standard Schema (zod 4, valibot, arktype, … or file()); ` +
      'pass a schema, an array of schemas or an object of schemas')
  }
  return value as StandardSchemaV1
}

/** Checks a call's arguments against the params' schemas and gives the method's arguments. */
class ParamsChecker {
  readonly shape: MethodShape
  readonly #form: 'positional' | 'named' | 'whole'
  readonly #entries: ReadonlyArray<readonly [key: string | number, schema: StandardSchemaV1]>

  static of (params: ParamsDefinition | undefined, implementation: Function): ParamsChecker {
    if (params === undefined) return new ParamsChecker('positional', [], [])
    if (Array.isArray(params)) {
      const schemas = params.map((schema, i) => schemaOf(schema, `params[${i}]`))
      const names = declaredParams(implementation)?.names ?? []
      return new ParamsChecker('positional', schemas.map((schema, i) => [i, schema] as const),
        schemas.map((_, i) => names[i] ?? `arg${i}`))
    }
    if (typeof params === 'object' && params !== null && !('~standard' in params)) {
      const entries = Object.keys(params).map((name) => [name, schemaOf((params as NamedParams)[name], `params.${name}`)] as const)
      return new ParamsChecker('named', entries, entries.map(([name]) => name))
    }
    return new ParamsChecker('whole', [[0, schemaOf(params, 'params')]], ['params'])
  }

  private constructor (form: 'positional' | 'named' | 'whole', entries: ReadonlyArray<readonly [string | number, StandardSchemaV1]>, names: readonly string[]) {
    this.#form = form
    this.#entries = entries
    this.shape = Object.freeze({
      form,
      names: Object.freeze(names),
      maxParams: form === 'positional' ? entries.length : 1,
      files: Object.freeze(form === 'whole' ? [] : entries.flatMap(([at, schema], i) => {
        const rule = fileRuleOf(schema)
        return rule === undefined ? [] : [{ at, name: names[i] ?? String(at), rule }]
      }))
    })
  }

  /** The method's arguments, or the issues that refuse the call. */
  check (args: unknown[]): unknown[] | Promise<unknown[]> {
    if (args.length > (this.shape.maxParams ?? Infinity)) {
      throw paramsRefused(methodName(), [{ path: [], message: `takes at most ${this.shape.maxParams ?? 0} params; got ${args.length}` }])
    }
    if (this.#form === 'named') return this.#checkNamed(args[0])
    const results = this.#entries.map(([at, schema]) => validate(schema, args[at as number]))
    // A whole-params schema's issue paths are already paths in the params.
    return settle(results, this.#form === 'whole' ? [] : this.#entries, (values) => values)
  }

  #checkNamed (arg: unknown): unknown[] | Promise<unknown[]> {
    const given = arg === undefined ? {} : arg
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw paramsRefused(methodName(), [{ path: [], message: `takes named params (${this.shape.names.join(', ')}) as one object` }])
    }
    const declared = new Set(this.shape.names)
    const unknown = Object.keys(given).filter((key) => !declared.has(key))
    if (unknown.length > 0) {
      throw paramsRefused(methodName(), unknown.slice(0, 20).map((key) => ({
        path: [key.slice(0, 100)], message: `no such param; the params are ${this.shape.names.join(', ') || 'none'}`
      })))
    }
    const record = given as Record<string, unknown>
    const results = this.#entries.map(([name, schema]) => validate(schema, Object.hasOwn(record, name) ? record[name as string] : undefined))
    return settle(results, this.#entries, (values) => {
      const out: Record<string, unknown> = {}
      this.#entries.forEach(([name], i) => {
        if (values[i] !== undefined || Object.hasOwn(record, name)) {
          Object.defineProperty(out, name, { value: values[i], writable: true, enumerable: true, configurable: true })
        }
      })
      return [out]
    })
  }
}

type Validation = StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>

/** Runs one schema; a schema that throws fails the call with an internal error (logged, never sent). */
function validate (schema: StandardSchemaV1, value: unknown): Validation {
  try {
    const result = schema['~standard'].validate(value)
    return result instanceof Promise ? result.catch(schemaThrew) : result
  } catch (err) {
    return schemaThrew(err)
  }
}

function schemaThrew (err: unknown): never {
  const context = activeCallContext()
  context?.log.error({ err }, 'a params schema threw')
  throw new RpcError(ErrorCode.INTERNAL_ERROR,
    `the params schema of "${methodName()}" threw instead of returning issues; the server's log has the error`)
}

/** Gathers the schemas' results: issues refuse the call, or `done` gets the values. */
function settle (results: Validation[], entries: ReadonlyArray<readonly [string | number, StandardSchemaV1]>,
  done: (values: unknown[]) => unknown[]): unknown[] | Promise<unknown[]> {
  const finish = (settled: ReadonlyArray<StandardSchemaV1.Result<unknown>>): unknown[] => {
    const issues: ParamIssue[] = []
    settled.forEach((result, i) => {
      if (result.issues !== undefined) for (const issue of result.issues) issues.push(issueAt(entries[i]?.[0], issue))
    })
    if (issues.length > 0) throw paramsRefused(methodName(), issues)
    return done(settled.map((result) => (result as StandardSchemaV1.SuccessResult<unknown>).value))
  }
  return results.some((result) => result instanceof Promise)
    ? Promise.all(results).then(finish)
    : finish(results as Array<StandardSchemaV1.Result<unknown>>)
}

function issueAt (at: string | number | undefined, issue: StandardSchemaV1.Issue): ParamIssue {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment
    return typeof key === 'number' ? key : String(key)
  })
  return { path: at === undefined ? path : [at, ...path], message: String(issue.message) }
}

async function checkResult (schema: StandardSchemaV1, value: unknown): Promise<unknown> {
  let result: StandardSchemaV1.Result<unknown>
  try {
    result = await schema['~standard'].validate(value)
  } catch (err) {
    return schemaThrew(err)
  }
  if (result.issues === undefined) return result.value
  activeCallContext()?.log.error({ issues: result.issues.slice(0, 20) }, 'a method returned a result its result schema refuses')
  throw new RpcError(ErrorCode.INTERNAL_ERROR,
    `"${methodName()}" returned a result its result schema refuses; the server's log has the issues`)
}

function methodName (): string {
  return activeCallContext()?.method ?? 'the method'
}
