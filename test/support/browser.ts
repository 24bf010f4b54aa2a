import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'

/** Debian's Chromium; Playwright drives it and downloads no browser of its own. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** A headless Chromium with a profile of its own, shared by the tests of one file. */
export interface TestBrowser {
  /** A new tab showing `url`, closed by `closePages()`. */
  openPage: (url: string) => Promise<Page>
  /** Closes the tabs opened so far (after each test). */
  closePages: () => Promise<void>
  close: () => Promise<void>
}

/**
 * Launches headless Chromium with a fresh temporary profile, downloads accepted.
 *
 * @example
 * ```ts
 * const browser = await launchBrowser()
 * const page = await browser.openPage(server.origin)
 * ```
 */
export async function launchBrowser (): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'formcall-chromium-'))
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1200, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic'
    ]
  })
  // The tests run under tsx, whose esbuild transform wraps named functions in `__name(fn, "name")`. Playwright
  // sends the source of `page.evaluate` callbacks to the page, where that helper does not exist.
  await context.addInitScript({ content: 'globalThis.__name = (fn) => fn' })
  const pages: Page[] = []

  return {
    openPage: async (url) => {
      const page = await context.newPage()
      pages.push(page)
      await page.goto(url)
      return page
    },
    closePages: async () => {
      await Promise.all(pages.splice(0).map(async (page) => await page.close()))
    },
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}

/**
 * Limits how fast `page` sends request bodies, through Chromium's network emulation (DevTools' throttling), until the
 * returned function lifts the limit. A test that must act while an upload is still running (cancel it, look at a temp
 * file) makes the upload slow rather than hoping to be quick.
 *
 * @example
 * ```ts
 * const unthrottle = await throttleUploads(page, 2_000_000) // 2 MB/s
 * await unthrottle()
 * ```
 */
export async function throttleUploads (page: Page, bytesPerSecond: number): Promise<() => Promise<void>> {
  // The emulation lasts as long as the DevTools session that set it, so the session stays open until lifted.
  const cdp = await page.context().newCDPSession(page)
  const emulate = async (uploadThroughput: number): Promise<void> => {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput })
  }
  await cdp.send('Network.enable')
  await emulate(bytesPerSecond)
  return async () => {
    await emulate(-1)
    await cdp.detach()
  }
}
