import type { StandardJSONSchemaV1 } from '@standard-schema/spec'

/** A JSON Schema (draft-07): an object of keywords, or `true` / `false`. */
export type JsonSchema = { [keyword: string]: unknown } | boolean

/**
 * The draft-07 JSON Schema a Standard Schema publishes for one side: `input` is what a client sends, `output` what
 * comes out after transforms (a result's schema). Undefined when the schema publishes none (valibot without
 * `toStandardJsonSchema`, a hand-written Standard Schema) or cannot express that side (zod throws for a transform's
 * output, for dates, …): the description then says nothing of it rather than something wrong.
 *
 * The value is copied through JSON, so it is plain data that can cross threads and be sent as it is.
 *
 * @example
 * ```ts
 * jsonSchemaOf(z.number(), 'input') // { type: 'number' }
 * ```
 */
export function jsonSchemaOf (schema: unknown, side: 'input' | 'output'): JsonSchema | undefined {
  const props = (typeof schema === 'object' || typeof schema === 'function') && schema !== null
    ? (schema as Partial<StandardJSONSchemaV1>)['~standard']
    : undefined
  const converter = props?.jsonSchema
  if (typeof converter?.[side] !== 'function') return undefined
  let value: unknown
  try {
    value = JSON.parse(JSON.stringify(converter[side]({ target: 'draft-07' })))
  } catch {
    return undefined
  }
  if (typeof value === 'boolean') return value
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  // The document says which draft its schemas follow (OpenRPC: draft-07); a `$schema` inside one is noise.
  delete (value as Record<string, unknown>).$schema
  return value as JsonSchema
}

/** Where a hoisted schema is referenced from, in an OpenRPC document. */
const COMPONENTS = '#/components/schemas/'
/** Keywords whose values are data, not schemas: a `$ref` member in them is not a reference. */
const DATA_KEYWORDS = new Set(['const', 'default', 'enum', 'examples'])
/** Keywords whose values map names to schemas: there, `default` or `$ref` is a property's name, not a keyword. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependencies'])

/**
 * The `components.schemas` of a description. A schema's own references (`#`, `#/definitions/…`, `#/$defs/…`, which
 * zod and valibot emit for recursive and shared types) point into that schema, but inside an OpenRPC document a
 * fragment points into the document: each schema's definitions, and the schema itself when something refers to it,
 * move here under names of their own, and the references are rewritten to reach them.
 */
export class SchemaComponents {
  /** The hoisted schemas by name. */
  readonly schemas: Record<string, JsonSchema> = {}
  readonly #claimed = new Set<string>()

  /**
   * `schema` made fit to stand in a content descriptor; `owner` (`files.store.photo`) prefixes the names of what it
   * hoists.
   */
  place (schema: JsonSchema, owner: string): JsonSchema {
    if (typeof schema === 'boolean') return schema
    const { definitions, $defs, ...root } = schema
    const defs = [...definitionsOf('definitions', definitions), ...definitionsOf('$defs', $defs)]
      .map(({ key, def }) => ({ key, def, name: this.#claim(`${owner}.${key.slice(key.indexOf('/') + 1)}`) }))
    const names = new Map(defs.map(({ key, name }) => [key, name]))
    let rootName: string | undefined
    const target = (ref: string): string => {
      // A plain-name fragment (`#node`) names an `$id` anchor, which travels with its schema.
      if (ref !== '#' && !ref.startsWith('#/')) return ref
      const tokens = ref.slice(1).split('/').slice(1)
      const hoisted = names.get(tokens.slice(0, 2).map(pointerKey).join('/'))
      if (hoisted !== undefined) return [COMPONENTS + hoisted, ...tokens.slice(2)].join('/')
      rootName ??= this.#claim(owner)
      return [COMPONENTS + rootName, ...tokens].join('/')
    }
    for (const { def, name } of defs) this.schemas[name] = withoutMetaSchema(rewriteRefs(def, target))
    const placed = rewriteRefs(root, target) as JsonSchema
    if (rootName === undefined) return placed
    this.schemas[rootName] = placed
    return { $ref: COMPONENTS + rootName }
  }

  /** A component name of its own, made of the characters OpenRPC allows in one (`^[a-zA-Z0-9.\-_]+$`). */
  #claim (wanted: string): string {
    const base = wanted.replace(/[^A-Za-z0-9._-]/g, '_')
    let name = base
    for (let n = 2; this.#claimed.has(name); n++) name = `${base}-${n}`
    this.#claimed.add(name)
    return name
  }
}

/** The members of a schema's `definitions` or `$defs`, keyed as a reference names them (`$defs/Node`). */
function definitionsOf (keyword: string, defs: unknown): Array<{ key: string, def: unknown }> {
  if (typeof defs !== 'object' || defs === null || Array.isArray(defs)) return []
  return Object.entries(defs).map(([key, def]) => ({ key: `${keyword}/${key}`, def }))
}

/**
 * A copy of `value` with every local `$ref` (`#…`) replaced by `target(ref)`; `schemaMap` says that `value` maps names
 * to schemas (the value of `properties`, …) rather than being a schema.
 */
function rewriteRefs (value: unknown, target: (ref: string) => string, schemaMap = false): unknown {
  if (Array.isArray(value)) return value.map((item) => rewriteRefs(item, target))
  if (typeof value !== 'object' || value === null) return value
  const copy: Record<string, unknown> = {}
  for (const [key, member] of Object.entries(value)) {
    const keyword = !schemaMap
    const rewritten = keyword && key === '$ref' && typeof member === 'string' && member.startsWith('#')
      ? target(member)
      : keyword && DATA_KEYWORDS.has(key) ? member : rewriteRefs(member, target, keyword && SCHEMA_MAPS.has(key))
    // Defined, not assigned: a property named `__proto__` (JSON.parse makes it an own one) stays a property.
    Object.defineProperty(copy, key, { value: rewritten, enumerable: true, writable: true, configurable: true })
  }
  return copy
}

function withoutMetaSchema (value: unknown): JsonSchema {
  if (typeof value === 'boolean') return value
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  const { $schema: _, ...rest } = value as Record<string, unknown>
  return rest
}

/** The key a fragment's JSON Pointer token names: percent-escapes decoded, then `~1` as `/` and `~0` as `~` (RFC 6901). */
function pointerKey (token: string): string {
  let text = token
  try {
    text = decodeURIComponent(token)
  } catch {
    // A malformed escape is kept as written: it then names no definition.
  }
  return text.replace(/~1/g, '/').replace(/~0/g, '~')
}
