import { chromium, type Browser, type BrowserContext } from 'playwright-core'

/** Debian's Chromium, as in browser.ts; Playwright downloads no browser of its own. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** One headless Chromium with two contexts: a person's with JavaScript turned off, and one where scripts run. */
export interface FormBrowser {
  /** JavaScript disabled: the page's forms are submitted by the browser itself. */
  readonly scriptless: BrowserContext
  /** JavaScript enabled, for the page's own `fetch`. */
  readonly scripted: BrowserContext
  close: () => Promise<void>
}

/**
 * Launches headless Chromium with the flags of browser.ts and a temporary profile (Playwright's, removed at close),
 * and opens both contexts. browser.ts's persistent context cannot turn JavaScript off; a context of a launched browser
 * can.
 *
 * @example
 * ```ts
 * const browser = await launchFormBrowser()
 * const page = await browser.scriptless.newPage()
 * ```
 */
export async function launchFormBrowser (): Promise<FormBrowser> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic']
  })
  const viewport = { width: 1000, height: 700 }
  const scriptless = await browser.newContext({ javaScriptEnabled: false, viewport })
  const scripted = await browser.newContext({ viewport })
  // tsx wraps named functions in `__name(fn, "name")`; `page.evaluate` sends their source to a page without it.
  await scripted.addInitScript({ content: 'globalThis.__name = (fn) => fn' })
  return { scriptless, scripted, close: async () => await browser.close() }
}
