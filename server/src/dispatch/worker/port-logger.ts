import type { FastifyBaseLogger } from 'fastify'
import type { CallReport, LogLevel } from './messages.js'

/**
 * The logger of a method in a worker (`callContext().log`): forwards each line to the request's logger in the main
 * thread, with the bindings of any `child()` merged in. It has the shape of Fastify's logger, so code written for
 * one runs with the other.
 */
export class PortLogger implements FastifyBaseLogger {
  readonly #report: (report: CallReport) => void
  readonly #bindings: Record<string, unknown> | undefined
  level: string

  constructor (report: (report: CallReport) => void, level: string, bindings?: Record<string, unknown>) {
    this.#report = report
    this.level = level
    this.#bindings = bindings
  }

  trace (objOrMsg: unknown, msg?: string): void { this.#log('trace', objOrMsg, msg) }
  debug (objOrMsg: unknown, msg?: string): void { this.#log('debug', objOrMsg, msg) }
  info (objOrMsg: unknown, msg?: string): void { this.#log('info', objOrMsg, msg) }
  warn (objOrMsg: unknown, msg?: string): void { this.#log('warn', objOrMsg, msg) }
  error (objOrMsg: unknown, msg?: string): void { this.#log('error', objOrMsg, msg) }
  fatal (objOrMsg: unknown, msg?: string): void { this.#log('fatal', objOrMsg, msg) }
  silent (): void {}
  child (bindings: Record<string, unknown>): PortLogger {
    return new PortLogger(this.#report, this.level, { ...this.#bindings, ...bindings })
  }

  #log (level: LogLevel, objOrMsg: unknown, msg?: string): void {
    const text = typeof objOrMsg === 'string' ? objOrMsg : msg ?? ''
    const obj = typeof objOrMsg === 'string' ? undefined : objOrMsg
    const merged = this.#bindings === undefined ? obj : { ...this.#bindings, ...(typeof obj === 'object' && obj !== null ? obj : { value: obj }) }
    this.#report(merged === undefined ? { t: 'log', level, msg: text } : { t: 'log', level, msg: text, obj: safeClone(merged) })
  }
}

function safeClone (value: unknown): unknown {
  try {
    return structuredClone(value)
  } catch {
    return String(value)
  }
}
