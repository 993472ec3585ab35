/**
 * The demo page in real Chromium: two (or three) users in one room, over real WebRTC, with the
 * embedded MQTT broker for signaling, as `npm run demo` serves it. Every page's console must stay
 * free of errors, including when a peer reloads or leaves.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Request } from 'playwright-core'
import { startDemo, type RunningDemo } from '../../demo/demo-server.js'
import { canRunBrowser, editorParts, editorText, waitForEditorText, front, launchChromium, openPage, screenshotAll, type DemoPage, type EditorName, type OpenOptions } from '../support/browser.js'

/** Bounds a failing wait; not a measurement. */
const deadline = { timeout: 30_000 }

describe.skipIf(!canRunBrowser)('demo page in Chromium', () => {
  let demo: RunningDemo
  let browser: Browser
  let pages: DemoPage[] = []
  /** Console errors a test provoked on purpose, by page name. */
  let expectedErrors: Array<{ page: string, pattern: RegExp }> = []
  let roomCounter = 0

  beforeAll(async () => {
    demo = await startDemo({ port: 0, brokerPort: 0 })
    browser = await launchChromium()
  }, 120_000)
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail') console.error(`screenshots: ${(await screenshotAll(pages.filter(({ page }) => !page.isClosed()), task.fullName)).join(', ')}`)
    // A page that logged an error fails its test (checked here, after the test's own asserts).
    const errors = pages.flatMap(({ name, errors }) => errors
      .filter((e) => !expectedErrors.some((expected) => expected.page === name && expected.pattern.test(e)))
      .map((e) => `${name}: ${e}`))
    for (const { page } of pages) await page.context().close()
    pages = []
    expectedErrors = []
    expect(errors).toEqual([])
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  const roomUrl = (query = ''): string => `${demo.url}?room=browser-test-${++roomCounter}-${Date.now()}${query}`
  const open = async (url: string, name: string, options: OpenOptions = {}): Promise<DemoPage> => {
    const page = await openPage(browser, url, name, options)
    pages.push(page)
    return page
  }
  const waitForPeers = async (user: DemoPage, n: number): Promise<void> => {
    await user.page.waitForFunction((count) => document.querySelectorAll('#peers li[data-peer]').length === count, n, deadline)
  }
  /** Two users in a fresh room, connected to each other. */
  const openPair = async (query = ''): Promise<[DemoPage, DemoPage, string]> => {
    const url = roomUrl(query)
    const a = await open(url, 'A')
    const b = await open(url, 'B')
    await waitForPeers(a, 1)
    return [a, b, url]
  }
  const waitForStatus = async (user: DemoPage, status: string): Promise<void> => {
    await user.page.waitForFunction((s) => document.querySelector('#status')?.getAttribute('data-status') === s, status, deadline)
  }

  describe.each(['codemirror', 'tiptap', 'quill'] as const)('with the %s editor', (editor: EditorName) => {
    const parts = editorParts[editor]
    /** Types at the end of the document. */
    const type = async (user: DemoPage, text: string): Promise<void> => {
      const page = await front(user)
      await page.locator(parts.content).click()
      await page.keyboard.press('Control+End')
      await page.keyboard.type(text)
    }
    const waitForText = async (user: DemoPage, text: string): Promise<void> => { await waitForEditorText(user, editor, text) }
    /** Both pages' text once they agree (polled: it is two pages' DOM). */
    const agreed = async (a: DemoPage, b: DemoPage, check: (text: string) => boolean): Promise<string> => {
      let text = ''
      await expect.poll(async () => {
        const [textA, textB] = [await editorText(a), await editorText(b)]
        text = textA
        return textA === textB && check(textA)
      }, deadline).toBe(true)
      return text
    }
    const count = (text: string, char: string): number => text.split(char).length - 1

    it('text crosses; the other user\'s caret shows with its name; concurrent typing converges; undo undoes only local edits; the caret goes when its page closes, and a reload or a close leaves no console error', async () => {
      const [a, b] = await openPair(`&editor=${editor}`)
      // B writes the first line, so that A's undo below holds A's characters only: Yjs groups
      // edits made within 500 ms into one undo step, and undoing a step that created a paragraph
      // removes the paragraph, with whatever B typed into it.
      await type(b, 'Hello from B.')
      await waitForText(a, 'Hello from B.')

      // B's caret, with B's name, in A.
      const bName = await b.page.locator('#name').inputValue()
      await a.page.waitForFunction(([selector, name]) => [...document.querySelectorAll(selector!)].some((label) => label.textContent === name),
        [parts.label, bName], deadline)

      // Concurrent typing at the same place, both at once: both pages end with the same text,
      // with every character of both (runs typed at one spot may interleave).
      await Promise.all([type(a, ' aaaa'), type(b, ' bbbb')])
      const both = await agreed(a, b, (text) => count(text, 'a') === 4 && count(text, 'b') === 4)
      expect(both.replace(/[ab ]/g, '')).toBe('HellofromB.')

      // Undo in A undoes A's typing, never B's, however often A presses it (CodeMirror's own
      // history undid B's last edit first: issue 12). Quill's history may take two steps for
      // typing that B's edits interleaved.
      await type(b, ' BBB')
      await waitForText(a, ' BBB')
      const pageA = await front(a)
      for (let presses = 0; presses < 4 && count(await editorText(a), 'a') > 0; presses++) await pageA.keyboard.press('Control+z')
      const afterUndo = await agreed(a, b, (text) => count(text, 'a') === 0)
      expect(count(afterUndo, 'b')).toBe(4)
      expect(afterUndo).toContain(' BBB')
      expect(afterUndo.replace(/[b ]|BBB/g, '')).toBe('HellofromB.')

      // B reloads: A sees B leave and come back, with no console error in either page.
      await b.page.reload()
      await waitForText(b, ' BBB')
      await waitForPeers(a, 1)

      // B's caret leaves A's screen when B's page closes (pagehide), at once.
      await (await front(b)).locator(parts.content).click()
      await a.page.waitForSelector(parts.caret, { ...deadline, state: 'attached' })
      // As closing a tab does: beforeunload (Trystero leaves the room) and pagehide (the
      // provider removes B's caret) both run.
      await Promise.all([b.page.waitForEvent('close'), b.page.close({ runBeforeUnload: true })])
      await a.page.waitForFunction((selector) => document.querySelectorAll(selector).length === 0, parts.caret, { timeout: 5000 })
      await waitForPeers(a, 0)
    })
  })

  it('a peer that vanishes without pagehide (its renderer crashed): its row never shows a stale round trip, and leaves with the provider\'s peers event, its caret too', async () => {
    const [a, b] = await openPair()
    await (await front(b)).locator('.cm-content').click()
    await a.page.waitForSelector('.cm-ySelectionCaret', deadline)
    await a.page.waitForFunction(() => /rtt \d+ ms/.test(document.querySelector('#peers li[data-peer]')?.textContent ?? ''), null, deadline)
    const bPeerId = (await a.page.locator('#peers li[data-peer]').getAttribute('data-peer'))!
    // Checked inside A at the moment of the provider's event, after the panel's own listener ran.
    await a.page.evaluate((peerId) => {
      const { provider } = (window as unknown as { trysteroYjsDemo: { provider: { on: (name: string, f: (e: { removed: string[] }) => void) => void } } }).trysteroYjsDemo
      ;(window as unknown as { removal: Promise<boolean> }).removal = new Promise((resolve) => provider.on('peers', ({ removed }) => {
        if (removed.includes(peerId)) resolve(document.querySelector(`#peers li[data-peer="${peerId}"]`) === null)
      }))
    }, bPeerId)

    const cdp = await b.page.context().newCDPSession(b.page)
    void cdp.send('Page.crash').catch(() => {})
    // Until the provider drops B, B's row says B is not answering, never "rtt N ms".
    await a.page.waitForFunction((peerId) => {
      const row = document.querySelector(`#peers li[data-peer="${peerId}"]`)
      return row === null || row.classList.contains('stale')
    }, bPeerId, deadline)
    const row = a.page.locator(`#peers li[data-peer="${bPeerId}"]`)
    if (await row.count() > 0) expect(await row.innerText()).not.toMatch(/rtt \d+ ms/)
    expect(await a.page.evaluate(async () => await (window as unknown as { removal: Promise<boolean> }).removal)).toBe(true)
    await a.page.waitForFunction(() => document.querySelectorAll('.cm-ySelectionCaret').length === 0, null, { timeout: 5000 })
    pages = pages.filter((page) => page !== b)
    await b.page.context().close()
  }, 60_000)

  it('a private room: the edit link edits; the read-only link reads and shows its caret but types nothing; a wrong key gets nothing', async () => {
    const key = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
    const url = roomUrl()
    const waitForAccess = async (user: DemoPage, text: string): Promise<void> => {
      await user.page.waitForFunction((t) => document.querySelector('#access')?.textContent === t, text, deadline)
    }
    const a = await open(`${url}#write=${key()}`, 'A')
    await waitForAccess(a, 'private · you can edit')
    const pageA = await front(a)
    await pageA.locator('#share-view').click()
    const viewLink = await pageA.locator('#share-link').inputValue()
    expect(viewLink).toMatch(/#view=[A-Za-z0-9_-]{86}$/)
    const b = await open(viewLink, 'B')
    await waitForPeers(a, 1)
    await waitForAccess(b, 'private · read only')
    const typeAt = async (user: DemoPage, text: string): Promise<void> => {
      const page = await front(user)
      await page.locator('.cm-content').click()
      await page.keyboard.press('Control+End')
      await page.keyboard.type(text)
    }
    await typeAt(a, 'the private text')
    await waitForEditorText(b, 'codemirror', 'the private text')
    // B's caret, with its name, in A; B's typing changes nothing anywhere.
    const bName = await b.page.locator('#name').inputValue()
    await typeAt(b, ' vandal')
    await a.page.waitForFunction((name) => [...document.querySelectorAll('.cm-ySelectionInfo')].some((label) => label.textContent === name), bName, deadline)
    expect(await editorText(b)).toBe('the private text')
    // A page in the same room with another key: refused both ways, sees nothing, and is seen by no one.
    const c = await open(`${url}#write=${key()}`, 'C')
    await waitForStatus(c, 'connected')
    await typeAt(a, '.')
    await waitForEditorText(b, 'codemirror', 'the private text.')
    expect(await editorText(c)).toBe('')
    expect(await editorText(a)).toBe('the private text.')
    expect(await a.page.locator('#peers li[data-peer]').count()).toBe(1)
  })

  it('a background tab with no timers running stays in the room: it answers PINGs when they arrive, not from a timer', async () => {
    const url = roomUrl()
    const a = await open(url, 'A')
    // B is a background tab of A's window. Headless Chromium keeps such a tab 'visible' and does
    // not throttle it, so B's timers are removed altogether below: stricter than a hidden tab's
    // throttling (one timer a minute after 5 minutes), which leaves data channel messages alone.
    const bPage = await a.page.context().newPage()
    const b: DemoPage = { name: 'B', page: bPage, errors: [] }
    bPage.on('console', (message) => { if (message.type() === 'error') b.errors.push(`console: ${message.text()}`) })
    pages.push(b)
    await bPage.goto(url)
    await waitForPeers(a, 1)
    await front(a)
    await bPage.evaluate(() => { for (let id = 1; id < 100_000; id++) { clearTimeout(id); clearInterval(id) } })
    // A window longer than twice the heartbeat timeout (6 s): B must still be listed at its end.
    const listedAfter = await a.page.evaluate(async (windowMs) => {
      const provider = (window as any).trysteroYjsDemo.provider
      let dropped = false
      provider.on('peers', () => { if (provider.peers.length === 0) dropped = true })
      await new Promise((resolve) => setTimeout(resolve, windowMs))
      return !dropped && provider.peers.length === 1
    }, 14_000)
    expect(listedAfter).toBe(true)
  }, 60_000)

  it('a chat message sent in A appears in B; a third page joining later sees the history', async () => {
    const [a, b, url] = await openPair()
    const pageA = await front(a)
    await pageA.locator('#chat-input').fill('first message')
    await pageA.locator('#chat-send').click()
    await b.page.waitForFunction(() => document.querySelector('#chat-log')?.textContent?.includes('first message'), null, deadline)
    const late = await open(url, 'C')
    await late.page.waitForFunction(() => document.querySelector('#chat-log')?.textContent?.includes('first message'), null, deadline)
    expect(await late.page.locator('#chat-log li').count()).toBe(1)
    // The badge says who is here and that signaling works; the peers panel measures round trips.
    await late.page.waitForFunction(() => document.querySelector('#status .label')?.textContent === 'Connected · 2 peers · signaling 1/1', null, deadline)
    await late.page.waitForFunction(() => /rtt \d+ ms · ↑ \d+(\.\d)? K?B · ↓ \d+(\.\d)? K?B/.test(document.querySelector('#peers')?.textContent ?? ''), null, deadline)
  })

  it('both pages go offline, edit, go online: both end with the same text, with both edits', async () => {
    const [a, b] = await openPair()
    const type = async (user: DemoPage, text: string): Promise<void> => {
      const page = await front(user)
      await page.locator('.cm-content').click()
      await page.keyboard.press('Control+End')
      await page.keyboard.type(text)
    }
    const waitForText = async (user: DemoPage, text: string): Promise<void> => {
      await user.page.waitForFunction((t) => document.querySelector('.cm-content')?.textContent?.includes(t), text, deadline)
    }
    await type(a, 'shared line. ')
    await waitForText(b, 'shared line.')
    for (const user of [a, b]) await (await front(user)).locator('#offline').check()
    await waitForStatus(a, 'disconnected')
    expect(await a.page.locator('#status').getAttribute('data-state')).toBe('offline')
    await type(a, 'A offline. ')
    await type(b, 'B offline. ')
    expect(await editorText(a)).not.toContain('B offline.')
    for (const user of [a, b]) await (await front(user)).locator('#offline').uncheck()
    await waitForText(a, 'B offline.')
    await waitForText(b, 'A offline.')
    expect(await editorText(a)).toBe(await editorText(b))
    expect(await editorText(a)).toMatch(/^shared line\. (A offline\. B offline\. |B offline\. A offline\. )$/)
  })

  it('reload: the text comes back from IndexedDB, with no peer in the room to answer; alone, the page says to share the link', async () => {
    const a = await open(roomUrl(), 'A')
    await a.page.waitForSelector('#alone:not([hidden])', deadline)
    const page = await front(a)
    await page.locator('.cm-content').click()
    await page.keyboard.type('kept in this browser')
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
    await a.page.waitForFunction(() => document.querySelector('.cm-content')?.textContent?.includes('kept in this browser'), null, deadline)
    await a.page.waitForFunction(() => document.querySelector('#saved')?.textContent === 'restored from this browser', null, deadline)
    expect(await a.page.locator('#peers li[data-peer]').count()).toBe(0)
  })

  it('no signaling relay reachable: the badge says so and the error is listed, instead of "connected, 0 peers"', async () => {
    const nowhere = 'ws://127.0.0.1:1'
    const a = await open(roomUrl(`&signal=nostr&relays=${encodeURIComponent(nowhere)}`), 'A')
    // Chromium itself logs every failed WebSocket connection as an error.
    expectedErrors.push({ page: 'A', pattern: /WebSocket connection to 'ws:\/\/127\.0\.0\.1:1\/' failed/ })
    await a.page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'no-signaling', null, deadline)
    expect(await a.page.locator('#status').innerText()).toBe('No signaling server reachable (0 of 1): nobody can find you')
    expect(await a.page.locator('#problems').innerText()).toMatch(/error: trystero-yjs: no signaling relay reachable \(0 of 1\).*ws:\/\/127\.0\.0\.1:1/)
    expect(await a.page.locator('#relay-list li[data-state="failed"]').textContent()).toContain(nowhere)
  })

  it('the LWW panel shows a different winner from the Y.Map panel in the clock-skew scenario', async () => {
    const a = await open(roomUrl(), 'A')
    const page = await front(a)
    // The panel is mounted once its presets are listed: a slider moved before has no listener
    // yet, and the panel's first render puts it back to 0 (the test failed so, twice, under load).
    await page.waitForFunction(() => document.querySelectorAll('#lww-preset option').length > 1, null, deadline)
    await page.locator('#lww-skew').fill('5000')
    expect(await page.locator('#lww-skew-value').innerText()).toBe('+5.0 s')
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

    // A built-in scenario loads into the controls: what is shown is what was played.
    await page.locator('#lww-preset').selectOption('concurrent-set')
    await page.waitForFunction(() => document.querySelectorAll('#lww-script li').length === 2, null, deadline)
    expect(await page.locator('#lww-script').innerText()).toBe('0.0 s — B sets color = "blue"\n0.02 s — A sets color = "red"')
    expect(await page.locator('#lww-skew').inputValue()).toBe('0')
    expect(await page.locator('#lww-skew-value').innerText()).toBe('+0.0 s')
    expect(await page.locator('#lww-playing').innerText()).toMatch(/^Playing “Concurrent set of the same key”/)
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '"blue"', cell('ymap'), deadline)
    await page.locator('#lww-preset').selectOption('clock-skew')
    await page.waitForFunction(() => document.querySelector<HTMLInputElement>('#lww-skew')?.value === '5000', null, deadline)
    expect(await page.locator('#lww-skew-value').innerText()).toBe('+5.0 s')
    expect(await page.locator('#lww-script').innerText()).toBe('0.0 s — B sets color = "blue"\n1.0 s — A sets color = "red"')
    // An edit extends the scenario played, rather than silently dropping it.
    await page.locator('#lww-value').fill('green')
    await page.locator('#lww-a-set').click()
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '"green"', cell('ymap'), deadline)
    expect(await page.locator('#lww-script li').count()).toBe(3)
    expect(await page.locator('#lww-skew').inputValue()).toBe('5000')
    await page.locator('#lww-reset').click()
    await page.waitForFunction(() => document.querySelectorAll('#lww-script li').length === 0, null, deadline)
    expect(await page.locator('#lww-playing').isHidden()).toBe(true)
  })

  it('loads only the chosen strategy\'s and editor\'s code; the room and the editor are in the URL', async () => {
    const requested: string[] = []
    const url = roomUrl()
    const a = await open(url, 'A', { beforeGoto: (page) => page.on('request', (request: Request) => requested.push(new URL(request.url()).pathname)) })
    await waitForStatus(a, 'connected')
    await a.page.waitForSelector('.cm-content', deadline)
    expect(requested.filter((path) => path.includes('strategy-'))).toEqual([expect.stringMatching(/strategy-mqtt-/)])
    expect(requested.filter((path) => path.includes('editor-'))).toEqual([expect.stringMatching(/editor-codemirror-/)])
    const page = await front(a)
    await page.locator('#editor-tabs [data-editor="tiptap"]').click()
    await page.waitForSelector('.tiptap-content', deadline)
    expect(requested.filter((path) => path.includes('editor-'))).toEqual([expect.stringMatching(/editor-codemirror-/), expect.stringMatching(/editor-tiptap-/)])
    await page.locator('#signaling-panel summary', { hasText: 'Signaling' }).click()
    await page.locator('#signal').selectOption('nostr')
    await a.page.waitForFunction(() => (document.querySelector<HTMLTextAreaElement>('#relays')?.value ?? '').startsWith('wss://'), null, deadline)
    expect(requested.some((path) => path.includes('strategy-nostr-'))).toBe(true)
    expect(requested.some((path) => path.includes('strategy-torrent-'))).toBe(false)
    await page.locator('#share').click()
    expect(await page.locator('#share-link').inputValue()).toBe(`${url}&editor=tiptap`)
  })

  it('fits a phone-sized screen', async () => {
    const a = await open(roomUrl(), 'phone', { viewport: { width: 390, height: 844 } })
    await waitForStatus(a, 'connected')
    const overflow = await a.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    for (const id of ['#editor', '#peers-panel', '#chat-panel', '#lww-panel']) {
      const box = await a.page.locator(id).boundingBox()
      expect(box!.width, id).toBeGreaterThan(300)
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(390)
    }
  })
})
