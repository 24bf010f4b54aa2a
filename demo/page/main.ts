import { createClient, ErrorCode, fromForm, resumable, RpcError, saveDownload, TransportError } from '@formcall/client-browser'
import type methods from '../methods.js' // types only: no server code reaches the page

const api = createClient<typeof methods>(new URL('/rpc', location.href))

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T

/** 1234567 → "1.2 MB" (decimal units, as the download size field uses). */
function formatBytes (bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}

/** What to tell the user about a failed call. */
function describeError (err: unknown): string {
  if (err instanceof RpcError) return `${err.codeName} (${err.code}): ${err.message}`
  if (err instanceof TransportError) return `The call did not get through (${err.kind}): ${err.message}`
  return String(err)
}

/** One reason a method's schema refused the params: where in the params, and what is wrong. */
interface ParamIssue {
  path: Array<string | number>
  message: string
}

/** The issues of a `-32602` answer from a method's schemas (`data.issues`), or none for any other error. */
function paramIssuesOf (err: RpcError): ParamIssue[] {
  const issues = (err.data as { issues?: unknown } | undefined)?.issues
  if (err.code !== ErrorCode.INVALID_PARAMS || !Array.isArray(issues)) return []
  return issues.filter((issue): issue is ParamIssue => typeof issue === 'object' && issue !== null &&
    Array.isArray((issue as ParamIssue).path) && typeof (issue as ParamIssue).message === 'string')
}

/** An issue's path as a user reads it: `title`, `photos[2]`, or `params` for the params as a whole. */
function formatPath (path: ReadonlyArray<string | number>): string {
  if (path.length === 0) return 'params'
  return path.map((key, i) => typeof key === 'number' ? `[${key}]` : i === 0 ? key : `.${key}`).join('')
}

/**
 * Fills the error box whose elements are `<prefix>-error-code`, `-name`, `-message`, `-data` (and `-issues`, when
 * the box has that list): the code, its name and message, and either each schema issue with its path or the data.
 */
function showRpcError (prefix: string, err: RpcError): void {
  byId(`${prefix}-error-code`).textContent = String(err.code)
  byId(`${prefix}-error-name`).textContent = err.codeName
  byId(`${prefix}-error-message`).textContent = err.message
  const list = document.getElementById(`${prefix}-error-issues`)
  const issues = paramIssuesOf(err)
  list?.replaceChildren(...issues.map(({ path, message }) => {
    const item = document.createElement('li')
    item.dataset.testid = `${prefix}-error-issue`
    const where = document.createElement('code')
    where.textContent = formatPath(path)
    item.append(where, ` ${message}`)
    return item
  }))
  const shownAsIssues = list !== null && issues.length > 0
  byId(`${prefix}-error-data`).textContent = err.data === undefined || shownAsIssues ? '' : `data: ${JSON.stringify(err.data)}`
  byId(`${prefix}-error`).hidden = false
}

// --- Hash files as they upload ------------------------------------------------------------------------------------

const hashInput = byId<HTMLInputElement>('hash-input')
const dropZone = byId('drop-zone')
const progressRow = byId('hash-progress-row')
const progress = byId<HTMLProgressElement>('hash-progress')
const percent = byId('hash-percent')
const speed = byId('hash-speed')
const cancel = byId<HTMLButtonElement>('hash-cancel')
const hashStatus = byId('hash-status')
const hashTable = byId<HTMLTableElement>('hash-table')
const hashRows = byId('hash-rows')
const hashResumable = byId<HTMLInputElement>('hash-resumable')
let upload: AbortController | undefined

async function hashFiles (files: File[]): Promise<void> {
  if (files.length === 0 || upload !== undefined) return
  const total = files.reduce((sum, file) => sum + file.size, 0)
  byId('hash-selection').textContent = `${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(total)}`
  upload = new AbortController()
  const started = performance.now()
  const showProgress = (loaded: number, size: number): void => {
    const share = size === 0 ? 1 : loaded / size
    progress.value = Math.floor(share * 100)
    percent.textContent = `${Math.floor(share * 100)}%`
    const seconds = (performance.now() - started) / 1000
    if (seconds > 0) speed.textContent = `${formatBytes(loaded / seconds)}/s`
  }
  progress.value = 0
  percent.textContent = '0%'
  speed.textContent = ''
  progressRow.dataset.state = 'uploading'
  cancel.disabled = false
  hashStatus.textContent = 'Uploading…'
  hashTable.hidden = true

  try {
    const digests = await api
      .$with({ signal: upload.signal, onUploadProgress: ({ loaded, total }) => { showProgress(loaded, total) } })
      .files.digestMany(hashResumable.checked ? files.map((file) => resumable(file)) : files)
    const seconds = (performance.now() - started) / 1000
    hashRows.replaceChildren(...digests.map((digest) => {
      const row = document.createElement('tr')
      row.dataset.testid = 'hash-row'
      for (const [text, className] of [[digest.name ?? '(unnamed)', 'name'], [formatBytes(digest.size), 'num'], [digest.sha256, 'hash']]) {
        const cell = row.insertCell()
        cell.className = className ?? ''
        cell.textContent = text ?? ''
      }
      return row
    }))
    hashTable.hidden = false
    progressRow.dataset.state = 'done'
    hashStatus.textContent = `Hashed ${digests.length} file${digests.length === 1 ? '' : 's'} (${formatBytes(total)}) in ${seconds.toFixed(1)} s.`
  } catch (err) {
    const cancelled = err instanceof TransportError && err.kind === 'aborted'
    progressRow.dataset.state = cancelled ? 'cancelled' : 'failed'
    hashStatus.textContent = cancelled ? 'Upload cancelled; the server stopped hashing.' : describeError(err)
  } finally {
    upload = undefined
    cancel.disabled = true
    hashInput.value = ''
  }
}

hashInput.addEventListener('change', () => { void hashFiles(Array.from(hashInput.files ?? [])) })
cancel.addEventListener('click', () => { upload?.abort() })
dropZone.addEventListener('dragover', (event) => {
  event.preventDefault()
  dropZone.classList.add('dragging')
})
dropZone.addEventListener('dragleave', () => { dropZone.classList.remove('dragging') })
dropZone.addEventListener('drop', (event) => {
  event.preventDefault()
  dropZone.classList.remove('dragging')
  void hashFiles(Array.from(event.dataTransfer?.files ?? []))
})

// --- Errors are values -------------------------------------------------------------------------------------------

const divideForm = byId<HTMLFormElement>('divide-form')
const divideResult = byId('divide-result')
const divideError = byId('divide-error')

divideForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  const a = byId<HTMLInputElement>('divide-a').valueAsNumber
  const b = byId<HTMLInputElement>('divide-b').valueAsNumber
  divideResult.hidden = true
  divideError.hidden = true
  try {
    divideResult.textContent = `${a} ÷ ${b} = ${await api.math.divide(a, b)}`
    divideResult.hidden = false
  } catch (err) {
    if (!(err instanceof RpcError)) {
      divideResult.textContent = describeError(err)
      divideResult.hidden = false
      return
    }
    showRpcError('divide', err)
  }
})

// --- Params are checked against their schema ---------------------------------------------------------------------

const photoForm = byId<HTMLFormElement>('photo-form')
const photoResult = byId('photo-result')
const photoError = byId('photo-error')

photoForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  photoResult.hidden = false
  photoResult.textContent = 'Sending…'
  photoError.hidden = true
  for (const field of photoForm.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid')
  try {
    const { title, photo } = await api.photos.add(fromForm(photoForm))
    const summary = document.createElement('p')
    summary.dataset.testid = 'photo-summary'
    summary.textContent = `Added “${title}”: ${photo.name ?? '(unnamed)'}, ${photo.type}, ${formatBytes(photo.size)}.`
    photoResult.replaceChildren(summary)
  } catch (err) {
    if (!(err instanceof RpcError)) {
      photoResult.textContent = describeError(err)
      return
    }
    photoResult.hidden = true
    showRpcError('photo', err)
    // The params are named by the form's fields: an issue's path starts with one, and a file constraint's error
    // (size, media type) names its param in `data.param`.
    const param = (err.data as { param?: unknown } | undefined)?.param
    const named = [...paramIssuesOf(err).map(({ path }) => path[0]), param]
    for (const name of named) {
      const field = typeof name === 'string' ? photoForm.elements.namedItem(name) : null
      if (field instanceof HTMLInputElement) field.setAttribute('aria-invalid', 'true')
    }
  }
})

// --- Downloads ---------------------------------------------------------------------------------------------------

const downloadForm = byId<HTMLFormElement>('download-form')
const downloadStatus = byId('download-status')

downloadForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  const megabytes = byId<HTMLInputElement>('download-size').valueAsNumber
  downloadStatus.textContent = 'Generating…'
  try {
    const file = await api.files.generate(megabytes * 1_000_000, `formcall-${megabytes}MB.bin`)
    saveDownload(file)
    downloadStatus.textContent = `Saved ${file.filename ?? 'the file'} (${formatBytes(file.size)}).`
  } catch (err) {
    downloadStatus.textContent = describeError(err)
  }
})

// --- Plain HTML form ---------------------------------------------------------------------------------------------

const profileForm = byId<HTMLFormElement>('profile-form')
const profileResult = byId('profile-result')

profileForm.addEventListener('submit', async (event) => {
  event.preventDefault()
  profileResult.hidden = false
  profileResult.textContent = 'Sending…'
  try {
    const { name, photos } = await api.profile.update(fromForm(profileForm))
    const list = document.createElement('ul')
    for (const photo of photos) {
      const item = document.createElement('li')
      item.dataset.testid = 'profile-photo'
      item.textContent = `${photo.name ?? '(unnamed)'} · ${formatBytes(photo.size)} · sha256 ${photo.sha256.slice(0, 16)}…`
      list.append(item)
    }
    const summary = document.createElement('p')
    summary.dataset.testid = 'profile-summary'
    summary.textContent = `Saved ${name} with ${photos.length} photo${photos.length === 1 ? '' : 's'}.`
    profileResult.replaceChildren(summary, list)
  } catch (err) {
    profileResult.textContent = describeError(err)
  }
})
