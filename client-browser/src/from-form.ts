/**
 * One value a form field contributes.
 *
 * @example
 * ```ts
 * const value: FormValue = input.files?.[0] ?? input.value
 * ```
 */
export type FormValue = string | File

/**
 * What `fromForm` returns by default: each field name to its value, or to a list of values for list fields.
 *
 * @example
 * ```ts
 * const params: FormParams = { name: 'Ada', photos: [photoA, photoB] }
 * ```
 */
export type FormParams = Record<string, FormValue | FormValue[]>

/**
 * Turns a form into a params object, so a form can be sent as one named argument:
 * `await api.profile.update(fromForm(form))`.
 *
 * - Text fields give strings and file inputs give `File`s.
 * - A field is a list (an array, possibly empty) when it is an `<input type=file multiple>` or `<select multiple>`,
 *   when several controls share its name (a group of checkboxes, two file inputs), or when it holds several values.
 *   A list with nothing chosen is `[]`.
 * - A single file input with no file chosen is left out, so the method sees the argument as absent rather than as
 *   the empty placeholder file the browser would submit.
 * - Disabled controls and unchecked boxes are left out, as in a normal submit. Names are used as they are
 *   (`a[b]` is not expanded into nested objects).
 *
 * Given a FormData instead of a form, only the entries are known: a name is a list when it has several values.
 *
 * The result type is whatever the call site expects (the method's parameter type by inference); it is not checked,
 * as the form's fields are only known at run time.
 *
 * @example
 * ```ts
 * form.addEventListener('submit', async (event) => {
 *   event.preventDefault()
 *   await api.profile.update(fromForm(form)) // { name: 'Ada', photos: [File, File] }
 * })
 * ```
 */
export function fromForm<T = FormParams> (form: HTMLFormElement | FormData): T {
  const isFormData = form instanceof FormData
  const data = isFormData ? form : new FormData(form)
  const listNames = isFormData ? new Set<string>() : namesOfListControls(form)

  const values = new Map<string, FormValue[]>()
  const entryCounts = new Map<string, number>()
  for (const [name, value] of data) {
    entryCounts.set(name, (entryCounts.get(name) ?? 0) + 1)
    const list = values.get(name) ?? []
    if (!isNoFileChosen(value)) list.push(value)
    values.set(name, list)
  }

  const params: [string, FormValue | FormValue[]][] = []
  for (const [name, list] of values) {
    if (listNames.has(name) || (entryCounts.get(name) ?? 0) > 1) params.push([name, list])
    else if (list.length === 1) params.push([name, list[0] as FormValue])
  }
  // A list field with nothing in it (no box checked) is an empty list, not a missing argument.
  for (const name of listNames) if (!values.has(name)) params.push([name, []])
  // fromEntries defines own properties, so a field named `__proto__` stays an ordinary key.
  return Object.fromEntries(params) as T
}

/** Names whose values always form a list, judged by the form's controls rather than by what is filled in. */
function namesOfListControls (form: HTMLFormElement): Set<string> {
  const lists = new Set<string>()
  const controlCounts = new Map<string, number>()
  for (const element of Array.from(form.elements)) {
    if (!(element instanceof HTMLInputElement || element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement)) continue
    const name = element.name
    // Disabled controls (also through a disabled fieldset) submit nothing, so they say nothing about lists.
    if (name === '' || element.matches(':disabled')) continue
    if ((element instanceof HTMLInputElement && element.type === 'file' && element.multiple) ||
        (element instanceof HTMLSelectElement && element.multiple)) lists.add(name)
    // Radio buttons share a name yet give one value; submit-like inputs are not in a FormData built from a form.
    if (element instanceof HTMLInputElement && ['radio', 'submit', 'image', 'reset', 'button'].includes(element.type)) continue
    const count = (controlCounts.get(name) ?? 0) + 1
    controlCounts.set(name, count)
    if (count > 1) lists.add(name)
  }
  return lists
}

/** A file input with nothing chosen still submits an entry: a nameless, empty File. */
function isNoFileChosen (value: FormValue): boolean {
  return typeof value !== 'string' && value.name === '' && value.size === 0
}
