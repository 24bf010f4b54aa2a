import type { MethodShape } from '../shape/method-shape.js'
import { paramsRefused } from '../shape/param-issues.js'
import type { FormFields } from './upload-session.js'

/**
 * The named params a form's fields make (PROTOCOL.md 13.3): each text field by its name, a string (an array of
 * strings when several share the name); each file input by its name, a placeholder of the files it sent: one file
 * `{"$file": name}`, several `{"$files": name}`. A method's declaration decides where it can: a `files()` param is
 * always a list, a `file()` param one file. The params then bind like any others, against the parts the form sent.
 *
 * @example
 * ```ts
 * formParams({ texts: new Map([['title', ['a']]]), files: new Map([['photo', 1]]) }, undefined, 'photos.store')
 * // { title: 'a', photo: { $file: 'photo' } }
 * ```
 */
export function formParams (fields: FormFields, shape: MethodShape | undefined, method: string): Record<string, unknown> {
  const declared = new Map(shape?.files.map(({ name, rule }) => [name, rule.kind]) ?? [])
  const params: Record<string, unknown> = {}
  const set = (name: string, value: unknown): void => {
    // defineProperty, not assignment: a field named "__proto__" must stay a plain own property.
    Object.defineProperty(params, name, { value, writable: true, enumerable: true, configurable: true })
  }
  for (const [name, values] of fields.texts) set(name, values.length === 1 ? values[0] : [...values])
  for (const [name, count] of fields.files) {
    if (declared.get(name) === 'file' && count > 1) {
      throw paramsRefused(method, [{ path: [name], message: `takes one file; the form sent ${count} under "${name.slice(0, 100)}"` }])
    }
    const list = declared.get(name) === 'files' || (declared.get(name) !== 'file' && count > 1)
    set(name, list ? { $files: name } : { $file: name })
  }
  return params
}
