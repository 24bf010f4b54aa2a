import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, afterEach, before } from 'node:test'
import type { Page } from 'playwright-core'
import { launchBrowser } from './browser.js'
import type { TestBrowser } from './browser.js'
import { buildBrowserBundle } from './build-browser-bundle.js'
import { createStandInRpc } from './stand-in-rpc.js'
import type { StandInRpc } from './stand-in-rpc.js'
import { startTestSite } from './test-site.js'
import type { TestSite } from './test-site.js'

/** What the tests of one file share: one browser, one site, one endpoint. */
export interface BrowserSuite {
  /** The page's origin. */
  readonly origin: string
  /** The endpoint the client calls. */
  readonly rpcUrl: string
  /** The stand-in endpoint's log, for tests about the wire format. */
  readonly rpc: StandInRpc
  /** A fresh tab on the test page, closed after the test. */
  openPage: () => Promise<Page>
}

/**
 * Registers `before`/`after` hooks that build the client bundle, start the site with its endpoint, and launch
 * Chromium once for the calling test file. `handleRpc` replaces the stand-in endpoint (with a real formcall server's
 * handler, for end-to-end runs); tests that read `rpc.received` need the stand-in.
 *
 * @example
 * ```ts
 * const suite = useBrowserSuite()
 * test('…', async () => { const page = await suite.openPage() })
 * ```
 */
export function useBrowserSuite (options: { handleRpc?: (req: IncomingMessage, res: ServerResponse) => void } = {}): BrowserSuite {
  const rpc = createStandInRpc()
  let site: TestSite | undefined
  let browser: TestBrowser | undefined
  const pages: Page[] = []

  before(async () => {
    site = await startTestSite({ bundle: await buildBrowserBundle(), handleRpc: options.handleRpc ?? rpc.handle })
    browser = await launchBrowser()
  })
  afterEach(async () => {
    await Promise.all(pages.splice(0).map((page) => page.close()))
  })
  after(async () => {
    await browser?.close()
    await site?.close()
  })

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the browser suite is not started: call useBrowserSuite() at the top level of the test file')
    return value
  }
  return {
    get origin () { return started(site).origin },
    get rpcUrl () { return started(site).rpcUrl },
    rpc,
    openPage: async () => {
      const page = await started(browser).openPage(started(site).origin)
      pages.push(page)
      return page
    }
  }
}
