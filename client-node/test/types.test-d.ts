/**
 * Type tests: checked by `tsc` (the root tsconfig includes this folder), never run. Each `@ts-expect-error` line
 * must fail to compile, and each `Equal` must hold.
 */
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import { DOWNLOAD_BRAND, FILE_BRAND, FILES_BRAND } from '@formcall/spec'
import { createClient, fileFromPath, type Client, type DownloadedFile } from '../src/index.js'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectEqual<A, B> (_proof: Equal<A, B>): void {}

/** Stand-ins for the server's types: only their brands cross to the client. */
interface ServerFile { readonly [FILE_BRAND]: true; readonly filename: string | null }
interface ServerFiles { readonly [FILES_BRAND]: true }
interface Download { readonly [DOWNLOAD_BRAND]: true }

declare const methods: {
  echo: (text: string) => string
  add: (a: number, b: number) => Promise<number>
  optional: (a: string, b?: number) => void
  files: {
    store: (input: { title: string; file: ServerFile; tags?: string[] }) => Promise<{ id: string; size: number }>
    storeMany: (files: ServerFile[]) => number
    album: (photos: ServerFiles) => number
    export: (id: string) => Promise<Download>
    thumbnail: (id: string) => Buffer
  }
  deep: { a: { b: { c: () => boolean } } }
}

const api = createClient<typeof methods>('http://localhost:8080/rpc')

// Results are promised; parameters are the method's own.
expectEqual<ReturnType<typeof api.echo>, Promise<string>>(true)
expectEqual<ReturnType<typeof api.add>, Promise<number>>(true)
expectEqual<Parameters<typeof api.add>, [a: number, b: number]>(true)
expectEqual<ReturnType<typeof api.deep.a.b.c>, Promise<boolean>>(true)
expectEqual<ReturnType<typeof api.optional>, Promise<void>>(true)
void api.optional('a')

// @ts-expect-error a number is not a string
void api.echo(1)
// @ts-expect-error a missing argument
void api.add(1)
// @ts-expect-error no such method
void api.nope()
// @ts-expect-error no such namespace member
void api.files.remove('x')

// File parameters take every file-like, at any depth.
void api.files.store({ title: 'a', file: createReadStream('a.pdf') })
void api.files.store({ title: 'a', file: fileFromPath('a.pdf', { type: 'application/pdf' }) })
void api.files.store({ title: 'a', file: Buffer.from('x') })
void api.files.store({ title: 'a', file: new Uint8Array(3) })
void api.files.store({ title: 'a', file: new Blob(['x']) })
void api.files.store({ title: 'a', file: new File(['x'], 'x.txt') })
void api.files.store({ title: 'a', file: Readable.from(['x']) })
void api.files.store({ title: 'a', file: new Blob(['x']).stream() })
void api.files.storeMany([fileFromPath('a'), Buffer.from('b')])
void api.files.album([fileFromPath('a'), fileFromPath('b')])
// @ts-expect-error a path string is not a file: wrap it in fileFromPath()
void api.files.store({ title: 'a', file: 'a.pdf' })
// @ts-expect-error the other members keep their types
void api.files.store({ title: 1, file: Buffer.from('x') })

// Downloads resolve to DownloadedFile; JSON results stay as they are.
expectEqual<ReturnType<typeof api.files.export>, Promise<DownloadedFile>>(true)
expectEqual<ReturnType<typeof api.files.thumbnail>, Promise<DownloadedFile>>(true)
expectEqual<ReturnType<typeof api.files.store>, Promise<{ id: string; size: number }>>(true)

// $with keeps the methods; $call is untyped, with an optional result type.
expectEqual<ReturnType<typeof api.$with>, Client<typeof methods>>(true)
expectEqual<ReturnType<typeof api.$call>, Promise<unknown>>(true)
void api.$call<number>('add', [1, 2]).then((n) => n.toFixed())
void api.$call('files.store', { title: 'a' }, { timeout: 1000, headers: { 'x-a': 'b' } })
// @ts-expect-error params are an array or an object
void api.$call('echo', 'hi')
// @ts-expect-error unknown option
void api.$with({ retries: 3 })

// Without a methods type, any path is callable and results are unknown.
const loose = createClient('http://localhost:8080/rpc')
expectEqual<ReturnType<typeof loose.any.path.at.all>, Promise<unknown>>(true)
void loose.files.store({ file: fileFromPath('a') })
