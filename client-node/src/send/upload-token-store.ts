import { writeFile } from 'node:fs/promises'
import { loadTus } from './load-tus.js'

/** An entry of tus-js-client's URL storage, as it stores and finds them (its typings do not export the shape). */
export interface StoredUpload {
  size: number | null
  metadata: Record<string, string>
  creationTime: string
  urlStorageKey: string
  uploadUrl: string | null
  parallelUploadUrls: string[] | null
  /** Added here: the `Upload-Token` of the upload's creation, without which no call can bind it. */
  uploadToken?: string
}

/** tus-js-client's URL storage seam. */
export interface UrlStorage {
  findAllUploads (): Promise<StoredUpload[]>
  findUploadsByFingerprint (fingerprint: string): Promise<StoredUpload[]>
  removeUpload (urlStorageKey: string): Promise<void>
  addUpload (fingerprint: string, upload: StoredUpload): Promise<string>
}

/** tus-js-client exports its Node `FileUrlStorage` at run time, but its typings leave it out. */
type FileUrlStorageClass = new (path: string) => UrlStorage

/**
 * tus-js-client's Node `FileUrlStorage` (a JSON file, locked while written) for one upload, with the upload's token
 * kept beside its URL: an upload resumed by a process started again must still be bound, and the token was only
 * in the answer to a creation made by the process before. The file is created `0600` if missing: it holds tokens.
 *
 * @example
 * ```ts
 * const store = await UploadTokenStore.open('/home/me/.cache/app/uploads.json')
 * store.token = res.getHeader('Upload-Token')   // when a creation answers, before tus stores the URL
 * ```
 */
export class UploadTokenStore implements UrlStorage {
  readonly #files: UrlStorage
  /** The token of the upload being sent; stored with its URL when tus-js-client adds the entry. */
  token: string | undefined
  /** The entry of the upload being sent, once stored or found. */
  key: string | undefined

  private constructor (files: UrlStorage) {
    this.#files = files
  }

  /** A store over the JSON file at `path`, created private to the user if missing. */
  static async open (path: string): Promise<UploadTokenStore> {
    await writeFile(path, '{}', { flag: 'wx', mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') {
        throw new Error(`cannot create the resumable-upload store ${JSON.stringify(path)} (resumable.storePath): ${err.message}`, { cause: err })
      }
    })
    const { FileUrlStorage } = (await loadTus()) as unknown as { FileUrlStorage: FileUrlStorageClass }
    return new UploadTokenStore(new FileUrlStorage(path))
  }

  async findAllUploads (): Promise<StoredUpload[]> {
    return await this.#files.findAllUploads()
  }

  async findUploadsByFingerprint (fingerprint: string): Promise<StoredUpload[]> {
    return await this.#files.findUploadsByFingerprint(fingerprint)
  }

  async removeUpload (urlStorageKey: string): Promise<void> {
    if (urlStorageKey === this.key) this.key = undefined
    await this.#files.removeUpload(urlStorageKey)
  }

  async addUpload (fingerprint: string, upload: StoredUpload): Promise<string> {
    const key = await this.#files.addUpload(fingerprint, { ...upload, ...(this.token === undefined ? {} : { uploadToken: this.token }) })
    this.key = key
    return key
  }

  /** Removes the entry of the upload this store kept (its call succeeded): nothing is left to resume. */
  async forget (): Promise<void> {
    if (this.key !== undefined) await this.removeUpload(this.key)
  }
}
