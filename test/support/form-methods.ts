/**
 * Methods for the form tests: what a plain HTML form's fields become as params, with and without a declaration. A
 * call counter shows that refused forms never reach a method.
 */
import { z } from 'zod'
import { FILE_BRAND, FILES_BRAND, hasBrand, RpcError } from '@formcall/spec'
import { defineMethod, file, files, type UploadedFile, type UploadedFiles } from '@formcall/server/methods'

let calls = 0

/** What a param of a form became: a text, a list of texts, a file, or a list of files (with their sizes). */
async function described (value: unknown): Promise<unknown> {
  if (hasBrand(value, FILE_BRAND)) {
    const upload = value as UploadedFile
    return { file: upload.filename, type: upload.type, size: (await upload.bytes()).length }
  }
  if (hasBrand(value, FILES_BRAND)) {
    const out: unknown[] = []
    for await (const upload of value as UploadedFiles) out.push(await described(upload))
    return { files: out }
  }
  return value
}

export default {
  forms: {
    /** Echoes every field it got, files described. */
    echo: async (fields: Record<string, unknown> = {}) => {
      calls++
      const out: Record<string, unknown> = {}
      for (const [name, value] of Object.entries(fields)) out[name] = await described(value)
      return out
    },
    /** A declared form: a name, an age from a text field, one small PNG and any number of documents. */
    profile: defineMethod({
      params: {
        name: z.string().min(1, 'fill in the name'),
        age: z.coerce.number().int().min(0),
        photo: file({ maxSize: 4096, accept: ['image/png'] }),
        docs: files({ optional: true })
      }
    }, async ({ name, age, photo, docs }) => {
      calls++
      return { name, age, photo: await described(photo), docs: docs === undefined ? null : await described(docs) }
    }),
    /** Fails with a message holding markup, which an HTML answer must show as text. */
    fail: (..._fields: unknown[]) => {
      calls++
      throw new RpcError(4005, 'refused: <b>not</b> "this" & that', { why: 'test' })
    },
    /** How many form methods ran, in this thread. */
    calls: () => calls
  }
}
