import type { Classified } from '@formcall/spec/client'

/**
 * The browser's file-like test, in the form the shared params walk takes: a File or Blob is a file, a FileList (an
 * `<input type=file multiple>`'s files) stands for its files and is sent as an array of them. Everything else
 * travels as JSON.
 *
 * Tags rather than `instanceof`, so that files from another realm (an iframe's input) are recognised too.
 *
 * @example
 * ```ts
 * classifyFileLike(new Blob(['x']))  // { file: Blob }
 * classifyFileLike(input.files!)     // { list: [File, File] }
 * classifyFileLike({ name: 'x' })    // undefined
 * ```
 */
export function classifyFileLike (value: object): Classified<Blob> {
  const tag = Object.prototype.toString.call(value)
  if (tag === '[object Blob]' || tag === '[object File]') return { file: value as Blob }
  if (tag === '[object FileList]') return { list: Array.from(value as FileList) }
  return undefined
}

/**
 * The filename a part is sent with: the File's name, or `blob` for a Blob (what a browser's own FormData sends).
 *
 * @example
 * ```ts
 * filenameOf(new File(['x'], 'a.png')) // 'a.png'
 * filenameOf(new Blob(['x']))          // 'blob'
 * ```
 */
export function filenameOf (file: Blob): string {
  const name = (file as Partial<File>).name
  return typeof name === 'string' && name !== '' ? name : 'blob'
}
