/** What the parser knows of a part after `json` from its headers, before any of its bytes. */
export interface FileInfo {
  /** The multipart part name. */
  readonly field: string
  /** The client's filename: informational only, never a safe path. `null` for text parts. */
  readonly filename: string | null
  /** The part's declared content type; `text/plain` when the part has none (RFC 7578 §4.4). */
  readonly type: string
}
