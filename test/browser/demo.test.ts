/**
 * The demo page in real Chromium: two (or three) users in one room, over real WebRTC, with the
 * embedded MQTT broker for signaling, as `npm run demo` serves it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Request } from 'playwright-core'
import { startDemo, type RunningDemo } from '../../demo/demo-server.js'
import { canRunBrowser, editorText, front, launchChromium, openPage, screenshotAll, type DemoPage, type OpenOptions } from '../support/browser.js'

const deadline = { timeout: 30_000 }

describe.skipIf(!canRunBrowser)('demo page in Chromium', () => {
  let demo: RunningDemo
  let browser: Browser
  let pages: DemoPage[] = []
  let roomCounter = 0

  beforeAll(async () => {
    demo = await startDemo({ port: 0, brokerPort: 0 })
    browser = await launchChromium()
  }, 120_000)
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') console.error(`screenshots: ${(await screenshotAll(pages, task.name)).join(', ')}`)
    // A page that logged an error fails its test (checked here, after the test's own asserts).
    const errors = pages.flatMap(({ name, errors }) => errors.map((e) => `${name}: ${e}`))
    for (const { page } of pages) await page.context().close()
    pages = []
    expect(errors).toEqual([])
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  const roomUrl = (): string => `${demo.url}?room=browser-test-${++roomCounter}-${Date.now()}`
  const open = async (url: string, name: string, options: OpenOptions = {}): Promise<DemoPage> => {
    const page = await openPage(browser, url, name, options)
    pages.push(page)
    return page
  }
  /** Two users in a fresh room, connected to each other. */
  const openPair = async (): Promise<[DemoPage, DemoPage, string]> => {
    const url = roomUrl()
    const a = await open(url, 'A')
    const b = await open(url, 'B')
    await waitForPeers(a, 1)
    return [a, b, url]
  }
  const type = async (user: DemoPage, text: string): Promise<void> => {
    const page = await front(user)
    await page.locator('.cm-content').click()
    await page.keyboard.press('End')
    await page.keyboard.type(text)
  }
  const waitForText = async (user: DemoPage, text: string): Promise<void> => {
    await user.page.waitForFunction((t) => document.querySelector('.cm-content')?.textContent?.includes(t), text, deadline)
  }
  const waitForPeers = async (user: DemoPage, n: number): Promise<void> => {
    await user.page.waitForFunction((count) => document.querySelectorAll('#peers li[data-peer]').length === count, n, deadline)
  }

  it('two pages in one room: text typed in A appears in B, and B\'s cursor is visible in A', async () => {
    const [a, b] = await openPair()
    await type(a, 'Hello from A. ')
    await waitForText(b, 'Hello from A.')
    await (await front(b)).locator('.cm-content').click()
    await a.page.waitForSelector('.cm-ySelectionCaret', deadline)
    const bName = await b.page.locator('#name').inputValue()
    await a.page.waitForFunction((name) => document.querySelector('.cm-ySelectionInfo')?.textContent === name, bName, deadline)
    expect(await a.page.locator('#peers').innerText()).toContain(bName)
    expect(await a.page.locator('#status').getAttribute('data-synced')).toBe('true')
    // The peers panel measures round trips with Trystero's ping and counts bytes both ways.
    await a.page.waitForFunction(() => /rtt \d+ ms · ↑ \d+ B · ↓ \d+ B/.test(document.querySelector('#peers')?.textContent ?? ''), null, deadline)
  })

  it('a chat message sent in A appears in B; a third page joining later sees the history', async () => {
    const [a, b, url] = await openPair()
    const pageA = await front(a)
    await pageA.locator('#chat-input').fill('first message')
    await pageA.locator('#chat-send').click()
    await b.page.waitForFunction(() => document.querySelector('#chat-log')?.textContent?.includes('first message'), null, deadline)
    const late = await open(url, 'C')
    await late.page.waitForFunction(() => document.querySelector('#chat-log')?.textContent?.includes('first message'), null, deadline)
    expect(await late.page.locator('#chat-log li').count()).toBe(1)
  })

  it('both pages go offline, edit, go online: both end with the same text, with both edits', async () => {
    const [a, b] = await openPair()
    await type(a, 'shared line. ')
    await waitForText(b, 'shared line.')
    for (const user of [a, b]) await (await front(user)).locator('#offline').check()
    await a.page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'disconnected', null, deadline)
    await type(a, 'A offline. ')
    await type(b, 'B offline. ')
    expect(await editorText(a)).not.toContain('B offline.')
    for (const user of [a, b]) await (await front(user)).locator('#offline').uncheck()
    await waitForText(a, 'B offline.')
    await waitForText(b, 'A offline.')
    expect(await editorText(a)).toBe(await editorText(b))
    expect(await editorText(a)).toMatch(/^shared line\. (A offline\. B offline\. |B offline\. A offline\. )$/)
  })

  it('reload: the text comes back from IndexedDB, with no peer in the room to answer', async () => {
    const a = await open(roomUrl(), 'A')
    await type(a, 'kept in this browser')
    // y-indexeddb writes asynchronously: wait until the update is stored.
    await a.page.waitForFunction(async () => {
      const room = new URL(location.href).searchParams.get('room')
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(`trystero-yjs-demo/${room}`)
        request.onsuccess = () => resolve(request.result)
        request.onerror = () => reject(request.error)
      })
      const count = await new Promise<number>((resolve) => {
        const request = db.transaction('updates').objectStore('updates').count()
        request.onsuccess = () => resolve(request.result)
      })
      db.close()
      return count > 0
    }, null, deadline)
    expect(await a.page.locator('#saved').innerText()).toBe('saved in this browser')
    await a.page.reload()
    await waitForText(a, 'kept in this browser')
    await a.page.waitForFunction(() => document.querySelector('#saved')?.textContent === 'restored from this browser', null, deadline)
    expect(await a.page.locator('#peers li[data-peer]').count()).toBe(0)
  })

  it('the LWW panel shows a different winner from the Y.Map panel in the clock-skew scenario', async () => {
    const a = await open(roomUrl(), 'A')
    const page = await front(a)
    await page.locator('#lww-skew').fill('5000')
    await page.locator('#lww-key').fill('color')
    await page.locator('#lww-value').fill('blue')
    await page.locator('#lww-b-set').click()
    await page.locator('#lww-value').fill('red')
    await page.locator('#lww-a-set').click()
    const cell = (side: string): string => `#lww-results td[data-side="${side}"][data-key="color"] .value`
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '"red"', cell('ymap'), deadline)
    expect(await page.locator(cell('lww-wall')).innerText()).toBe('"blue"')
    expect(await page.locator(cell('lww-hlc')).innerText()).toBe('"red"')
    expect(await page.locator('#lww-results td[data-side="lww-wall"] .why').innerText()).toMatch(/A wrote after seeing B's set to "blue", yet lost/)
  })

  it('loads only the chosen strategy\'s code, and the room is in the URL', async () => {
    const requested: string[] = []
    const url = roomUrl()
    const a = await open(url, 'A', { beforeGoto: (page) => page.on('request', (request: Request) => requested.push(new URL(request.url()).pathname)) })
    await a.page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'connected', null, deadline)
    expect(requested.filter((path) => path.includes('strategy-'))).toEqual([expect.stringMatching(/strategy-mqtt-/)])
    const page = await front(a)
    await page.locator('#signaling-panel summary', { hasText: 'Signaling' }).click()
    await page.locator('#signal').selectOption('nostr')
    await a.page.waitForFunction(() => (document.querySelector<HTMLTextAreaElement>('#relays')?.value ?? '').startsWith('wss://'), null, deadline)
    expect(requested.some((path) => path.includes('strategy-nostr-'))).toBe(true)
    expect(requested.some((path) => path.includes('strategy-torrent-'))).toBe(false)
    await page.locator('#share').click()
    expect(await page.locator('#share-link').inputValue()).toBe(url)
  })

  it('fits a phone-sized screen', async () => {
    const a = await open(roomUrl(), 'phone', { viewport: { width: 390, height: 844 } })
    await a.page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-status') === 'connected', null, deadline)
    const overflow = await a.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    for (const id of ['#editor', '#peers-panel', '#chat-panel', '#lww-panel']) {
      const box = await a.page.locator(id).boundingBox()
      expect(box!.width, id).toBeGreaterThan(300)
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(390)
    }
  })
})
