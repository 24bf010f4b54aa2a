import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ERROR_REGISTRY, type ErrorCodeName } from '@formcall/spec'
import { listMethods, resolveMethod } from '../dispatch/resolve-method.js'
import { definitionOf, type MethodDefinition } from '../shape/define-method.js'
import { shapeOf, type MethodShape } from '../shape/method-shape.js'
import { jsonSchemaOf, SchemaComponents, type JsonSchema } from './json-schema.js'

/** The OpenRPC version of the documents formcall makes. */
export const OPENRPC_VERSION = '1.3.2'
/** OpenRPC's service-discovery method: answered with the document, never listed in it. */
export const DISCOVER_METHOD = 'rpc.discover'

/** An OpenRPC content descriptor: one param, or the result. */
export interface ContentDescriptor {
  readonly name: string
  readonly schema: JsonSchema
  readonly required?: boolean
  readonly description?: string
}

/** An OpenRPC reference object (`{ "$ref": "#/components/errors/INVALID_PARAMS" }`). */
export interface ReferenceObject { readonly $ref: string }

/** How a method takes its params, as OpenRPC says it: an array, an object of the params by name, or either. */
export type ParamStructure = 'by-position' | 'by-name' | 'either'

/** An OpenRPC method object, as formcall describes a method. */
export interface OpenRpcMethod {
  readonly name: string
  readonly summary?: string
  readonly description?: string
  readonly params: readonly ContentDescriptor[]
  readonly result: ContentDescriptor
  readonly paramStructure: ParamStructure
  /** The registry errors that this method's declaration makes possible, besides those any call may meet. */
  readonly errors?: readonly ReferenceObject[]
}

/**
 * What a methods object says of itself: its methods, and the schemas their references reach. Plain data, made where
 * the schemas live (in a pool worker, in worker mode) and sent to the main thread.
 */
export interface MethodsDescription {
  readonly methods: readonly OpenRpcMethod[]
  readonly schemas: Readonly<Record<string, JsonSchema>>
}

/** The `info` of an OpenRPC document. */
export interface OpenRpcInfo {
  readonly title: string
  readonly version: string
  readonly description?: string
}

/** An OpenRPC error object. */
export interface OpenRpcError { readonly code: number, readonly message: string }

/** An OpenRPC document of a formcall server. */
export interface OpenRpcDocument {
  readonly openrpc: typeof OPENRPC_VERSION
  readonly info: OpenRpcInfo
  readonly methods: readonly OpenRpcMethod[]
  readonly components: {
    readonly errors: Readonly<Record<string, OpenRpcError>>
    readonly schemas?: Readonly<Record<string, JsonSchema>>
  }
}

/**
 * Describes every method of a methods object for OpenRPC: params as content descriptors (JSON Schema from each
 * Standard Schema that publishes one, `{}` otherwise), the result, summary and description from `defineMethod`, and
 * the errors the declaration makes possible. Plain functions get their params' names from their source, and `{}`.
 *
 * @example
 * ```ts
 * describeMethods({ add: defineMethod({ params: [z.number(), z.number()] }, (a, b) => a + b) }).methods[0]?.paramStructure // 'either'
 * ```
 */
export function describeMethods (methods: object): MethodsDescription {
  const components = new SchemaComponents()
  const described = listMethods(methods)
    .filter((name) => name !== DISCOVER_METHOD)
    .map((name) => describeMethod(name, resolveMethod(methods, name), components))
  return { methods: described, schemas: components.schemas }
}

/**
 * The OpenRPC document of a description: `info`, the methods, and `components` with every registry error (keyed by
 * name, which the methods' `errors` refer to) and the hoisted schemas.
 *
 * @example
 * ```ts
 * JSON.stringify(openRpcDocument(describeMethods(methods), { title: 'files', version: '1.0.0' }))
 * ```
 */
export function openRpcDocument (description: MethodsDescription, info: OpenRpcInfo): OpenRpcDocument {
  const errors: Record<string, OpenRpcError> = {}
  for (const [code, { name, message }] of Object.entries(ERROR_REGISTRY)) errors[name] = { code: Number(code), message }
  const schemas = Object.keys(description.schemas).length > 0 ? { schemas: description.schemas } : {}
  return { openrpc: OPENRPC_VERSION, info, methods: description.methods, components: { errors, ...schemas } }
}

function describeMethod (name: string, fn: Function, components: SchemaComponents): OpenRpcMethod {
  const defined = definitionOf(fn)
  if (defined === undefined) return plainMethod(name, shapeOf(fn))
  const { definition, shape } = defined
  const params = paramSchemas(definition, shape).map(([param, schema]) => ({
    name: param,
    schema: components.place(jsonSchemaOf(schema, 'input') ?? {}, `${name}.${param}`),
    required: !acceptsUndefined(schema)
  }))
  const result = definition.result === undefined ? {} : jsonSchemaOf(definition.result, 'output') ?? {}
  return {
    name,
    ...(definition.summary === undefined ? {} : { summary: definition.summary }),
    ...(definition.description === undefined ? {} : { description: definition.description }),
    params: shape.form === 'positional' ? requiredUpToLast(params) : requiredFirst(params),
    result: { name: 'result', schema: components.place(result, `${name}.result`) },
    paramStructure: PARAM_STRUCTURE[shape.form],
    errors: errorsOf(shape, true)
  }
}

/**
 * How each form takes its params on the wire (PROTOCOL.md section 2.3): a positional method takes an array, or its
 * params by name (matched to the function's); a named one takes its params as one object, by name (or that object as
 * the only positional param, which OpenRPC cannot say beside it); a whole-params schema is the one positional param;
 * a plain function gets an array as its arguments, and a named call as one object argument, which its descriptors
 * (one per argument) do not describe.
 */
const PARAM_STRUCTURE: Readonly<Record<MethodShape['form'], ParamStructure>> = {
  positional: 'either',
  named: 'by-name',
  whole: 'by-position',
  plain: 'by-position'
}

/** The params' schemas by the names the descriptors give them. */
function paramSchemas (definition: MethodDefinition, shape: MethodShape): Array<[string, StandardSchemaV1]> {
  const params = definition.params as unknown
  if (params === undefined) return []
  if (shape.form === 'whole') return [['params', params as StandardSchemaV1]]
  const byKey = params as Record<string | number, StandardSchemaV1>
  return shape.names.map((name, i) => [name, byKey[shape.form === 'named' ? name : i] as StandardSchemaV1])
}

/**
 * A plain function: names from its source, any value (`{}`), none required (the server checks only how many are
 * sent; the function decides what it does without one).
 */
function plainMethod (name: string, shape: MethodShape): OpenRpcMethod {
  const rest = shape.maxParams === undefined ? shape.names.length - 1 : -1
  return {
    name,
    params: shape.names.map((param, i) => i === rest
      ? { name: param, schema: {}, description: 'a rest parameter: takes this and every later positional param' }
      : { name: param, schema: {} }),
    result: { name: 'result', schema: {} },
    paramStructure: PARAM_STRUCTURE.plain,
    errors: errorsOf(shape, false)
  }
}

/**
 * Whether a schema takes a param left out: it validates `undefined` synchronously without issues. A schema that
 * answers asynchronously, or throws, counts as requiring the param.
 */
function acceptsUndefined (schema: StandardSchemaV1): boolean {
  try {
    const result = schema['~standard'].validate(undefined)
    if (typeof (result as Partial<Promise<unknown>>).then === 'function') {
      (result as Promise<unknown>).then(undefined, () => {})
      return false
    }
    return (result as StandardSchemaV1.Result<unknown>).issues === undefined
  } catch {
    return false
  }
}

/**
 * Positional params with every param before a required one required too: OpenRPC puts optional params after all
 * required ones, and by position a param cannot be left out while a later one is sent.
 */
function requiredUpToLast (params: ContentDescriptor[]): ContentDescriptor[] {
  const last = params.findLastIndex((param) => param.required === true)
  return params.map((param, i) => i < last ? { ...param, required: true } : param)
}

/** Params by name with the required ones first, as OpenRPC lists them (order does not matter by name). */
function requiredFirst (params: ContentDescriptor[]): ContentDescriptor[] {
  return [...params.filter((param) => param.required === true), ...params.filter((param) => param.required !== true)]
}

/** The registry errors a method's declaration makes possible, as references into `components.errors`. */
function errorsOf (shape: MethodShape, defined: boolean): ReferenceObject[] {
  const names: ErrorCodeName[] = []
  // Schemas refuse params; a plain function's arity refuses extra ones.
  if (defined || shape.maxParams !== undefined) names.push('INVALID_PARAMS')
  if (shape.files.length > 0) names.push('MISSING_FILE', 'LIMIT_EXCEEDED')
  if (shape.files.some(({ rule }) => rule.accept !== undefined)) names.push('FILE_TYPE_NOT_ACCEPTED')
  return names.map((name) => ({ $ref: `#/components/errors/${name}` }))
}
