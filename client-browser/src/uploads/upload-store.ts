/**
 * An unfinished (or not yet bound) upload, as remembered across page reloads.
 *
 * @example
 * ```ts
 * const remembered: RememberedUpload = { url: 'https://h/rpc/uploads/9f86d0', token: '3q2-7w', size: 1048576 }
 * ```
 */
export interface RememberedUpload {
  /** The upload's absolute URL. */
  url: string
  /** Its `Upload-Token`: whoever holds it can bind the upload to a call. */
  token: string
  /** The file's size, checked against the server's `Upload-Length` before resuming. */
  size: number
}

/** Where remembered uploads are kept: one `localStorage` entry per file fingerprint. */
const PREFIX = 'formcall-upload::'

/**
 * The uploads remembered in `localStorage` under a fingerprint of the file and the endpoint, so that a page reloaded
 * mid-upload resumes it when the same file is sent again. The token is kept beside the URL, as the call that binds
 * the upload needs both. Where `localStorage` is unusable (a sandboxed frame, a worker, storage full or disabled)
 * nothing is remembered and uploads still work.
 *
 * @example
 * ```ts
 * const store = uploadStore()
 * store.save(key, { url, token, size })
 * store.find(key)   // { url, token, size }
 * store.remove(key)
 * ```
 */
export function uploadStore (): {
  find: (key: string) => RememberedUpload | undefined
  save: (key: string, upload: RememberedUpload) => void
  remove: (key: string) => void
} {
  const storage = (): Storage | undefined => {
    try {
      return globalThis.localStorage ?? undefined
    } catch {
      // Reading `localStorage` itself throws a SecurityError in sandboxed frames and with storage blocked.
      return undefined
    }
  }
  return {
    find: (key) => {
      try {
        const text = storage()?.getItem(PREFIX + key)
        if (text === null || text === undefined) return undefined
        const value = JSON.parse(text) as Partial<RememberedUpload>
        if (typeof value.url !== 'string' || typeof value.token !== 'string' || typeof value.size !== 'number') return undefined
        return { url: value.url, token: value.token, size: value.size }
      } catch {
        return undefined
      }
    },
    save: (key, upload) => {
      try {
        storage()?.setItem(PREFIX + key, JSON.stringify(upload))
      } catch {
        // A full or disabled storage costs the resumption after a reload, not the upload.
      }
    },
    remove: (key) => {
      try {
        storage()?.removeItem(PREFIX + key)
      } catch {}
    }
  }
}

/**
 * The key a file's upload is remembered under: the caller's fingerprint, or for a `File` its name, type, size and
 * last-modified time, always with the upload endpoint; `undefined` for a Blob without a fingerprint.
 *
 * @example
 * ```ts
 * rememberKey(new File(['x'], 'a.txt', { lastModified: 1 }), undefined, 'https://h/rpc/uploads/')
 * // '["https://h/rpc/uploads/","file","a.txt","",1,1]'
 * ```
 */
export function rememberKey (file: Blob, fingerprint: string | undefined, endpoint: string): string | undefined {
  if (fingerprint !== undefined) return JSON.stringify([endpoint, 'fingerprint', fingerprint, file.size])
  if (Object.prototype.toString.call(file) !== '[object File]') return undefined
  const { name, type, size, lastModified } = file as File
  return JSON.stringify([endpoint, 'file', name, type, size, lastModified])
}
