import { ErrorCode, RpcError } from '@formcall/spec'

/**
 * One reason params were refused, as `-32602` answers carry it in `data.issues` (PROTOCOL.md section 12): where in
 * the params (`path`: the position or name of the param, then keys and indexes inside it) and what is wrong.
 */
export interface ParamIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

const MAX_ISSUES = 100
const MAX_MESSAGE = 500

/**
 * The `-32602` answer to params that do not fit a method: `data` is `{ method, issues }`, the issues bounded (100,
 * each message 500 characters) so a schema's report cannot become a huge answer.
 *
 * @example
 * ```ts
 * paramsRefused('math.add', [{ path: [1], message: 'expected number, received string' }])
 * // RpcError -32602 'the params of "math.add" do not fit it: [1]: expected number, received string'
 * ```
 */
export function paramsRefused (method: string, issues: readonly ParamIssue[]): RpcError {
  const bounded = issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: issue.path.map((key) => typeof key === 'number' ? key : key.slice(0, MAX_MESSAGE)),
    message: issue.message.slice(0, MAX_MESSAGE)
  }))
  const first = bounded[0]
  const where = first === undefined || first.path.length === 0 ? '' : `${JSON.stringify(first.path)}: `
  const more = bounded.length > 1 ? ` (and ${issues.length - 1} more in data.issues)` : ''
  return new RpcError(ErrorCode.INVALID_PARAMS,
    `the params of "${method.slice(0, 256)}" do not fit it: ${where}${first?.message ?? 'refused'}${more}`,
    { method: method.slice(0, 256), issues: bounded })
}
