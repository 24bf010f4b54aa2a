import { parse, type Node, type Pattern } from 'acorn'

/** What a function's source declares about its parameters. */
export interface DeclaredParams {
  /** A name per declared parameter: its identifier, or `argN` for a destructured one. */
  readonly names: readonly string[]
  /** How many positional params it can take: `undefined` with a rest parameter (`...args`). */
  readonly max: number | undefined
}

/**
 * Reads a function's parameter list from its source text, once per method: `fn.length` stops counting at the first
 * default (`(a, b = 1)` has length 1) and cannot tell a rest parameter from none, so it cannot bound a call's params.
 * Returns `undefined` where the source is not JavaScript (a bound or native function): its arity is unknown.
 *
 * @example
 * ```ts
 * declaredParams((a, b = 1) => a + b)   // { names: ['a', 'b'], max: 2 }
 * declaredParams((...parts) => parts)   // { names: ['parts'], max: undefined }
 * ```
 */
export function declaredParams (fn: Function): DeclaredParams | undefined {
  const source = Function.prototype.toString.call(fn)
  const params = functionParams(source)
  if (params === undefined) return undefined
  let max: number | undefined = params.length
  const names = params.map((param, i) => {
    if (param.type === 'RestElement') {
      max = undefined
      param = param.argument
    }
    if (param.type === 'AssignmentPattern') param = param.left
    return param.type === 'Identifier' ? param.name : `arg${i}`
  })
  return { names, max }
}

/** The parameter nodes of a function's source: a function or arrow expression, or a method (`name (a) {}`). */
function functionParams (source: string): Pattern[] | undefined {
  // A function or arrow expression parses as one; a method's source (object or class shorthand, `async`, `*`) does as
  // the only member of an object literal.
  for (const text of [`(${source})`, `({${source}})`]) {
    let program: Node
    try {
      program = parse(text, { ecmaVersion: 'latest', sourceType: 'script' })
    } catch {
      continue
    }
    const fn = functionNode(program)
    if (fn !== undefined) return fn
  }
  return undefined
}

function functionNode (program: Node): Pattern[] | undefined {
  const statement = (program as unknown as { body: Node[] }).body[0] as { type: string, expression?: Node } | undefined
  let node = statement?.type === 'ExpressionStatement' ? statement.expression as { type: string } | undefined : undefined
  if (node?.type === 'ObjectExpression') {
    const property = (node as unknown as { properties: Array<{ type: string, value?: { type: string } }> }).properties[0]
    node = property?.type === 'Property' ? property.value : undefined
  }
  if (node?.type === 'FunctionExpression' || node?.type === 'ArrowFunctionExpression') {
    return (node as unknown as { params: Pattern[] }).params
  }
  return undefined
}
