// The piscina baseline's task (fastify-piscina.ts): the bare route's echo envelope, as plain JavaScript, so its
// workers load it without a TypeScript loader, as formcall's worker rows load methods.mjs.

/** Answers a parsed call `{ id, params: [value] }` with `{ jsonrpc: '2.0', id, result: value }`. */
export default function echo (call) {
  return { jsonrpc: '2.0', id: call?.id ?? null, result: call?.params?.[0] ?? null }
}
