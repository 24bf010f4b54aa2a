// The test page puts the client module on `window.formcall`, for the code tests run in it with `page.evaluate`.
declare global {
  interface Window {
    formcall: typeof import('../../src/index.js')
  }
}

export {}
