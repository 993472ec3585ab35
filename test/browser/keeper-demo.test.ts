/**
 * The demo with its keeper, in real Chromium: a room outlives every tab. The page keeps its
 * document in IndexedDB too, so the tab that comes back is a fresh browser context, which has
 * nothing of its own: whatever it shows came from the keeper.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser } from 'playwright-core'
import { startDemo, type RunningDemo } from '../../demo/demo-server.js'
import { canRunBrowser, front, launchChromium, openPage, screenshotAll, type DemoPage } from '../support/browser.js'
import { closeAllConnections } from '../support/trystero-peer.js'
import { until } from '../support/wait.js'

const deadline = { timeout: 30_000 }

describe.skipIf(!canRunBrowser)('demo with a keeper, in Chromium', () => {
  const room = `kept-${Date.now()}`
  // A private room, as `npm run demo` makes: the keeper proves its key like every peer.
  const writeKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  const dir = mkdtempSync(join(tmpdir(), 'trystero-yjs-demo-keeper-test-'))
  let demo: RunningDemo
  let browser: Browser
  let pages: DemoPage[] = []

  beforeAll(async () => {
    demo = await startDemo({ port: 0, brokerPort: 0, keep: { rooms: [{ room, writeKey }], dir } })
    browser = await launchChromium()
  }, 120_000)
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') console.error(`screenshots: ${(await screenshotAll(pages, task.name)).join(', ')}`)
    const errors = pages.flatMap(({ name, errors }) => errors.map((e) => `${name}: ${e}`))
    for (const { page } of pages) if (!page.isClosed()) await page.context().close()
    pages = []
    expect(errors).toEqual([])
  })
  afterAll(async () => {
    await browser?.close()
    // The keeper's MQTT client (Trystero's) ends before the broker does: else it keeps reconnecting.
    await demo?.keeper?.close()
    await closeAllConnections()
    await demo?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const open = async (name: string): Promise<DemoPage> => {
    const page = await openPage(browser, `${demo.url}?room=${room}#write=${writeKey}`, name)
    pages.push(page)
    return page
  }

  it('a room survives every tab closing: a fresh browser context opening the link gets the document', async () => {
    const keeper = demo.keeper!
    const writer = await open('writer')
    const page = await front(writer)
    await page.locator('.cm-content').click()
    await page.keyboard.type('Still here after everyone left.')
    // The keeper has every keystroke before the last tab goes.
    const keptText = (): string => keeper.doc(room)?.getText('codemirror').toString() ?? ''
    await until('the keeper to hold the text', () => keptText() === 'Still here after everyone left.',
      [(wake) => { const doc = keeper.doc(room)!; doc.on('update', wake); return () => doc.off('update', wake) }], 30_000)

    // Gone for good: its context (and IndexedDB) with it. The keeper may take WebRTC's ~30 s to
    // notice; the visitor need not wait for that, nor can it get anything from a closed page.
    await writer.page.context().close()

    const visitor = await open('visitor')
    await visitor.page.waitForFunction(() => document.querySelector('.cm-content')?.textContent === 'Still here after everyone left.', null, deadline)
  })
})
