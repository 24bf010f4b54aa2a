import { RpcError, ErrorCode } from '@formcall/server'

// Plain JavaScript methods; in inline isolation they run on the app's own thread, so they can use its state.
export function methodsFor (notes) {
  return {
    notes: {
      add (text) {
        if (typeof text !== 'string' || text === '') throw new RpcError(ErrorCode.INVALID_PARAMS, 'a note needs some text')
        notes.push(text)
        return { count: notes.length }
      },
      list: () => [...notes],
      /** The file's contents become a note: `UploadedFile.text()` reads the whole upload, fine for a small text file. */
      async importFile (file) {
        const text = (await file.text()).trim()
        notes.push(text)
        return { count: notes.length, from: file.filename }
      }
    }
  }
}
