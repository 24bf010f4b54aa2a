import type { CreateServerOptions } from '@formcall/server'
import { loadMethods, type BenchMethodsObject } from './methods.js'

/** The bench's methods, as an object and as a module path (its default export), for a variant to pick from. */
export interface BenchMethods {
  methods: BenchMethodsObject
  methodsModule: URL
}

/**
 * A way to run the formcall server. Every formcall row of the bench runs once per variant, and the `mode` column
 * names the variant, so a new server mode is one more entry in {@link FORMCALL_VARIANTS}.
 */
export interface FormcallVariant {
  /** The `mode` column: short, stable, used in row ids (`upload/formcall/<mode>`). */
  mode: string
  /** One line for the report's legend. */
  describe: string
  /** `createServer` options of this variant, given the bench's methods (the bench adds its limits). */
  serverOptions: (bench: BenchMethods) => CreateServerOptions
}

/** Threads of the worker variant's pool, and of the piscina baseline's (`servers/fastify-piscina.ts`). */
export const WORKER_POOL_SIZE = 8

/** The formcall server variants the bench measures; each formcall row runs once per variant. */
export const FORMCALL_VARIANTS: readonly FormcallVariant[] = [
  {
    mode: 'inline',
    describe: 'createServer({ methods }): methods run in the server\'s own thread',
    serverOptions: ({ methods }) => ({ methods })
  },
  {
    mode: 'worker',
    describe: `createServer({ methodsModule }): every call in a pooled worker thread (the default), ${WORKER_POOL_SIZE} workers, methods as plain JS`,
    serverOptions: ({ methodsModule }) => ({ methodsModule, isolation: 'worker', workers: WORKER_POOL_SIZE })
  }
]

/** The variant named `mode`; throws with the known names otherwise. */
export function formcallVariant (mode: string | undefined): FormcallVariant {
  const variant = FORMCALL_VARIANTS.find((v) => v.mode === mode)
  if (variant === undefined) {
    throw new Error(`unknown formcall mode "${String(mode)}"; known: ${FORMCALL_VARIANTS.map((v) => v.mode).join(', ')}`)
  }
  return variant
}

/** The full `createServer` options of a variant, with no size limit in the way of big uploads. */
export async function formcallServerOptions (variant: FormcallVariant, { schemas = false } = {}): Promise<CreateServerOptions> {
  const methodsModule = new URL(schemas ? './methods-schemas.mjs' : './methods.mjs', import.meta.url)
  const options = variant.serverOptions({ methods: await loadMethods({ schemas }), methodsModule })
  return {
    ...options,
    limits: { ...options.limits, fileSize: Number.MAX_SAFE_INTEGER, spoolSize: Number.MAX_SAFE_INTEGER }
  }
}
