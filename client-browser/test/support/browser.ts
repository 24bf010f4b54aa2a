import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { BrowserContext, Page } from 'playwright-core'

/** Debian's Chromium; Playwright drives it, and downloads no browser of its own. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** A headless Chromium with a profile of its own, shared by the tests of one file. */
export interface TestBrowser {
  /** A new tab showing `url`, once the client module has loaded into `window.formcall`. */
  openPage: (url: string) => Promise<Page>
  close: () => Promise<void>
}

/**
 * Launches headless Chromium with a fresh temporary profile.
 *
 * @example
 * ```ts
 * const browser = await launchBrowser()
 * const page = await browser.openPage(site.origin)
 * ```
 */
export async function launchBrowser (): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'formcall-chromium-'))
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
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

  return {
    openPage: async (url) => {
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForFunction(() => 'formcall' in window)
      return page
    },
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    }
  }
}
