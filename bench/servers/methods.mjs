// The bench's methods (methods.ts) as plain JavaScript: the worker rows load them the way a deployed server loads
// compiled code, so a worker needs no TypeScript loader (which costs ~33 MiB per worker).

/** Reads the file to the end, counting bytes. */
export async function sink (file) {
  let bytes = 0
  for await (const chunk of file) bytes += chunk.length
  return { bytes }
}

/** Returns its argument. */
export function echo (value) {
  return value
}

export default { sink, echo }
