// Type tests: checked by `tsc -p tsconfig.json --noEmit`, never run. Each `@ts-expect-error` must be an error.
import type { DOWNLOAD_BRAND, FILE_BRAND } from '@formcall/spec'
import { createClient, fromForm, resumable } from '../src/index.js'
import type { Client, DownloadedBlob } from '../src/index.js'

/** What a server's uploaded-file parameter looks like to the type system. */
interface UploadedFile { readonly [FILE_BRAND]: true; readonly filename: string | null }
/** What the server's download() helper returns. */
interface Download { readonly [DOWNLOAD_BRAND]: true }
declare const methods: {
  echo: (text: string, times?: number) => string
  files: {
    digest: (file: UploadedFile, algorithm: 'sha256' | 'sha1') => Promise<{ hex: string }>
    gallery: (input: { title: string; photos: UploadedFile[] }) => number
    export: (month: string) => Promise<Download>
  }
  profile: { update: (input: { name: string; avatar?: UploadedFile }) => void }
}
declare const file: File
declare const blob: Blob
declare const form: HTMLFormElement

const api = createClient<typeof methods>('/rpc')

export const echoed: Promise<string> = api.echo('hi')
export const digest: Promise<{ hex: string }> = api.files.digest(blob, 'sha256')
export const count: Promise<number> = api.files.gallery({ title: 't', photos: [file, blob] })
export const exported: Promise<DownloadedBlob> = api.files.export('2026-11')
export const updated: Promise<void> = api.profile.update(fromForm(form))
export const byName: Promise<{ n: number }> = api.$call<{ n: number }>('files.gallery', [{ title: 't', photos: [] }])
export const derived: Client<typeof methods> = api.$with({ timeout: 1000, onUploadProgress: ({ loaded, total }) => loaded / total })

// resumable() keeps the file's type, so a wrapped file goes wherever the file went.
export const resumed: Promise<{ hex: string }> = api.files.digest(resumable(file), 'sha256')
export const named: File = resumable(file, { fingerprint: 'f' })
export const withResumable: Client<typeof methods> = api.$with({ resumable: { above: 1024, retryDelays: [0, 1000], rememberUploads: false } })
// @ts-expect-error resumable() takes a File or Blob
void resumable('a path')
// @ts-expect-error resumable.above is a number of bytes
void api.$with({ resumable: { above: '50 MiB' } })

// @ts-expect-error the server takes a file here, not a string
void api.files.digest('not a file', 'sha256')
// @ts-expect-error the algorithm is a closed union
void api.files.digest(file, 'md5')
// @ts-expect-error no such method
void api.files.remove('x')
// Every parameter the method declares is the caller's (methods read their context with callContext()).
void api.echo('hi', 2)
// @ts-expect-error a parameter's type holds
void api.echo('hi', 'twice')
// @ts-expect-error a download result is a DownloadedBlob, not a string
export const notText: Promise<string> = api.files.export('2026-11')

// Without a methods type every name is callable and results are unknown.
const untyped = createClient('/rpc')
export const anything: Promise<unknown> = untyped.any.depth.at.all(1, 'two')
export const controls: Promise<string> = untyped.$call<string>('x')
