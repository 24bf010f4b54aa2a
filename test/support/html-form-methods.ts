import { randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { defineMethod, files, RpcError, type UploadedFile } from '@formcall/server/methods'
import { digestFile } from './bytes.js'

/**
 * The environment variable naming the directory where each method call leaves a record (see {@link record}). Worker
 * threads get the process's environment, so the test sets it before the server starts, and the records show what ran
 * in whichever thread it ran.
 */
export const CALL_RECORDS_ENV = 'FORMCALL_HTML_FORM_RECORDS'

/** The code `forms.fail` fails with. */
export const FORM_FAILURE_CODE = 4100

/** What one call left behind: the method and what it returned. */
export interface CallRecord {
  method: string
  result: unknown
}

/** A received file, as `forms.digest` answers it. */
export interface FormFileDigest {
  name: string | null
  size: number
  sha256: string
}

async function digestOf (file: UploadedFile): Promise<FormFileDigest> {
  const { size, sha256 } = await digestFile(file)
  return { name: file.filename, size, sha256 }
}

/** Notes that `method` ran and returned `result`, as one file in the records directory. */
async function record<T> (method: string, result: T): Promise<T> {
  const directory = process.env[CALL_RECORDS_ENV]
  if (directory !== undefined) {
    await writeFile(join(directory, `${randomUUID()}.json`), JSON.stringify({ method, result } satisfies CallRecord))
  }
  return result
}

/**
 * The methods the plain HTML forms of test/html-forms.test.ts call. Each form's hidden `json` input names only the
 * method; the form's other fields are the named params.
 */
export default {
  forms: {
    /** Two text fields (`tags` given twice: an array), a title and any number of files under one name. */
    digest: defineMethod({
      params: {
        title: z.string().min(1).max(40, 'a title has at most 40 characters'),
        tags: z.array(z.string()),
        files: files({ maxCount: 10 })
      }
    }, async ({ title, tags, files }) => {
      const digests: FormFileDigest[] = []
      for await (const file of files) digests.push(await digestOf(file))
      return await record('forms.digest', { title, tags, files: digests })
    }),
    /** Leaves a record and nothing else: whether a refused form's method ran. */
    mark: defineMethod({ params: { note: z.string() } }, async ({ note }) => await record('forms.mark', { note })),
    /** The method's own error, thrown once it runs. */
    fail: defineMethod({ params: { reason: z.string() } }, ({ reason }) => {
      throw new RpcError(FORM_FAILURE_CODE, `the form asked to fail: ${reason}`, { reason })
    })
  }
}
