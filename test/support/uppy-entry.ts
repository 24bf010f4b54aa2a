// The page's copy of Uppy with its Tus plugin, built by Vite for the resumable-upload browser test: an off-the-shelf
// tus client formcall must work with unchanged.
export { default as Uppy } from '@uppy/core'
export { default as Tus } from '@uppy/tus'
