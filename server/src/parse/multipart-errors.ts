import { ErrorCode, RpcError } from '@formcall/spec'

/**
 * Maps the multipart parser's failures to registry codes. busboy reports errors as bare messages; this is the one
 * place that matches on them.
 */
export function mapMultipartError (err: unknown): RpcError {
  if (err instanceof RpcError) return err
  const message = err instanceof Error ? err.message : String(err)
  if (/boundary not found/i.test(message)) {
    return new RpcError(ErrorCode.INVALID_REQUEST,
      'the multipart body has no boundary; send Content-Type: multipart/form-data; boundary=...')
  }
  if (/unexpected end|terminated early/i.test(message)) {
    return new RpcError(ErrorCode.INVALID_REQUEST,
      'the multipart body ended before its closing boundary; the upload was cut short, send it again')
  }
  if (/header/i.test(message) && /(size|pairs|limit|exceed)/i.test(message)) {
    return new RpcError(ErrorCode.LIMIT_EXCEEDED, `a part's headers are too large (${message})`,
      { limit: 'partHeaderSize' })
  }
  return new RpcError(ErrorCode.INVALID_REQUEST, `the multipart body is malformed (${message})`)
}

/** The error for a limit hit, in the shape PROTOCOL.md section 10 requires. */
export function limitError (limit: string, max: number, what: string, extra: Record<string, unknown> = {}): RpcError {
  return new RpcError(ErrorCode.LIMIT_EXCEEDED, `${what} exceeded the ${formatBytesOrCount(limit, max)} limit (limits.${limit}); raise it on the server or send less`,
    { limit, max, ...extra })
}

function formatBytesOrCount (limit: string, max: number): string {
  if (['files', 'parts', 'batchSize'].includes(limit)) return String(max)
  if (max >= 2 ** 30 && max % 2 ** 30 === 0) return `${max / 2 ** 30} GiB`
  if (max >= 2 ** 20 && max % 2 ** 20 === 0) return `${max / 2 ** 20} MiB`
  if (max >= 2 ** 10 && max % 2 ** 10 === 0) return `${max / 2 ** 10} KiB`
  return `${max}-byte`
}
