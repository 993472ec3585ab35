/**
 * Tabs of one browser (pages of one Chromium context, one origin) over the BroadcastChannel
 * (PROTOCOL.md §7): they sync with the signaling broker unreachable, encrypted in a private room,
 * not at all with `broadcastChannel: false`, and — when they are also WebRTC peers — send each
 * other their document over the BroadcastChannel only.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type ViteDevServer } from 'vite'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startLocalMqttBroker, type LocalMqttBroker } from '../../src/node/index.js'
import { canRunBrowser, launchChromium } from '../support/browser.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
/** Bounds a failing wait; not a measurement. */
const deadline = { timeout: 30_000 }
/** Nothing listens on port 1: every signaling attempt fails. */
const unreachableBroker = 'ws://127.0.0.1:1'

describe.skipIf(!canRunBrowser)('tabs over a BroadcastChannel in Chromium', () => {
  let server: ViteDevServer
  let browser: Browser
  let context: BrowserContext
  let url: string
  let rooms = 0
  const pageErrors: string[] = []

  beforeAll(async () => {
    server = await createServer({ root, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } })
    await server.listen()
    browser = await launchChromium()
    url = `${server.resolvedUrls!.local[0]!}test/browser/fixtures/tabs-page.html`
  }, 120_000)
  afterEach(async () => {
    for (const page of context?.pages() ?? []) await page.evaluate(async () => await (window as any).lab?.destroy()).catch(() => undefined)
    await context?.close()
    expect(pageErrors.splice(0)).toEqual([])
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  const freshContext = async (): Promise<void> => {
    context = await browser.newContext()
    // With the media permission Chromium offers 127.0.0.1 candidates (no mDNS names).
    await context.grantPermissions(['camera', 'microphone'], { origin: new URL(url).origin })
  }
  /** A tab of the context with a provider on `roomId`. */
  const tab = async (roomId: string, brokerUrl: string, options: Record<string, unknown> = {}): Promise<Page> => {
    const page = await context.newPage()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(url)
    await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 60_000 })
    await page.evaluate((args) => (window as any).lab.start(args), { roomId, brokerUrl, options })
    return page
  }
  const lab = async <T>(page: Page, f: string, ...args: unknown[]): Promise<T> =>
    await page.evaluate(([name, rest]) => (window as any).lab[name as string](...(rest as unknown[])), [f, args] as const) as T
  const waitForText = async (page: Page, text: string): Promise<void> => {
    await page.waitForFunction((t) => (window as any).lab.text() === t, text, deadline)
  }
  const waitForParts = async (page: Page, parts: string[]): Promise<void> => {
    await page.waitForFunction((ps) => ps.every((p) => (window as any).lab.text().includes(p)), parts, deadline)
  }
  const roomId = (): string => `tabs-${Date.now()}-${++rooms}`

  it('two tabs sync a document both ways and see each other\'s awareness with signaling unreachable', async () => {
    await freshContext()
    const room = roomId()
    const a = await tab(room, unreachableBroker)
    const b = await tab(room, unreachableBroker)
    await lab(a, 'insert', 'from a;')
    await waitForText(b, 'from a;')
    await lab(b, 'insert', 'from b;')
    await waitForText(a, 'from a;from b;')
    await lab(a, 'setName', 'ada')
    await lab(b, 'setName', 'bea')
    await a.waitForFunction(() => (window as any).lab.names().join() === 'ada,bea', undefined, deadline)
    await b.waitForFunction(() => (window as any).lab.names().join() === 'ada,bea', undefined, deadline)
    // Each answered the other's step 1 (the second tab's too, which arrived after the first).
    await a.waitForFunction(() => (window as any).lab.synced(), undefined, deadline)
    await b.waitForFunction(() => (window as any).lab.synced(), undefined, deadline)
    const event = await lab<{ bcPeers: string[], webrtcPeers: string[] }>(a, 'lastPeersEvent')
    expect(event.bcPeers).toHaveLength(1)
    expect(event.bcPeers[0]).toMatch(/^tab:/)
    expect(event.webrtcPeers).toEqual([])
    expect(await lab(a, 'webrtcPeers')).toEqual([])
  })

  it('in a private room, what crosses the BroadcastChannel is no plaintext to a page without the key', async () => {
    await freshContext()
    const room = roomId()
    const listener = await context.newPage()
    await listener.goto(url)
    await listener.evaluate((name) => {
      const seen: number[][] = []
      ;(window as any).seen = seen
      const channel = new BroadcastChannel(name)
      channel.onmessage = (event: MessageEvent) => seen.push([...(event.data as { data: Uint8Array }).data])
    }, `trystero-yjs/tabs-test/${room}`)
    const a = await tab(room, unreachableBroker, { password: 'tab secret' })
    const b = await tab(room, unreachableBroker, { password: 'tab secret' })
    const secret = 'the plaintext nobody else may read'
    await lab(a, 'insert', secret)
    await waitForText(b, secret)
    await lab(b, 'setName', 'bea')
    await a.waitForFunction(() => (window as any).lab.names().includes('bea'), undefined, deadline)
    const seen = await listener.evaluate(() => (window as any).seen as number[][])
    expect(seen.length).toBeGreaterThan(0)
    const decoded = seen.map((bytes) => Buffer.from(bytes).toString('latin1'))
    expect(decoded.filter((text) => text.includes(secret) || text.includes('bea'))).toEqual([])
    expect(decoded.filter((text) => text.includes(secret.slice(0, 8)))).toEqual([])

    // A tab that is closed says BYE (encrypted, on its way out): it is no peer any more, its cursor gone.
    await b.close({ runBeforeUnload: true })
    await a.waitForFunction(() => (window as any).lab.peers().length === 0 && !(window as any).lab.names().includes('bea'), undefined, deadline)
  })

  it('a tab that falls silent without a BYE (crashed, frozen) leaves the other\'s peers; when it speaks again, both start over and sync', async () => {
    await freshContext()
    const room = roomId()
    const a = await tab(room, unreachableBroker)
    const b = await tab(room, unreachableBroker)
    await lab(a, 'insert', 'a;')
    await waitForText(b, 'a;')
    expect(await lab(a, 'peers')).toHaveLength(1)
    // B's posts on its BroadcastChannels are dropped: it hears A's PINGs and cannot answer, and it
    // says no BYE, as a tab whose renderer crashed or that the browser froze. (Headless Chromium
    // neither freezes a visible page nor kills one tab's renderer alone.)
    await b.evaluate(() => {
      const post = BroadcastChannel.prototype.postMessage
      BroadcastChannel.prototype.postMessage = function (this: BroadcastChannel, message: unknown) {
        if ((window as any).silent !== true) post.call(this, message)
      }
      ;(window as any).silent = true
    })
    await a.waitForFunction(() => (window as any).lab.peers().length === 0, undefined, deadline)
    expect(await lab(a, 'synced')).toBe(true)
    await lab(a, 'insert', 'while b was silent;')
    await lab(b, 'insert', 'b while silent;')
    // B speaks again: its next message makes A ask it to start over; both send what the other missed.
    await b.evaluate(() => { (window as any).silent = false })
    await lab(b, 'insert', 'b back;')
    const parts = ['a;', 'while b was silent;', 'b while silent;', 'b back;']
    await a.waitForFunction(() => (window as any).lab.peers().length === 1, undefined, deadline)
    await waitForParts(a, parts)
    await waitForParts(b, parts)
    expect(await lab(a, 'text')).toBe(await lab(b, 'text'))
  })

  it('tabs with broadcastChannel: false do not sync without signaling', async () => {
    await freshContext()
    const room = roomId()
    const off = await tab(room, unreachableBroker, { broadcastChannel: false })
    const a = await tab(room, unreachableBroker)
    const b = await tab(room, unreachableBroker)
    await lab(off, 'insert', 'off;')
    await lab(a, 'insert', 'a;')
    // The two tabs with it on sync: messages flow on the channel the third one left alone.
    await waitForText(b, 'a;')
    expect(await lab(off, 'peers')).toEqual([])
    expect(await lab(off, 'text')).toBe('off;')
    expect(await lab(a, 'peers')).toHaveLength(1)
    expect(await lab(a, 'text')).toBe('a;')
  })

  describe('with a reachable broker', () => {
    let broker: LocalMqttBroker
    beforeAll(async () => { broker = await startLocalMqttBroker() })
    afterAll(async () => { await broker?.close() })

    it('two tabs that are also WebRTC peers send each other document updates once, over the BroadcastChannel', async () => {
      await freshContext()
      const room = roomId()
      const a = await tab(room, broker.url)
      const b = await tab(room, broker.url)
      // Connected over WebRTC, and each has the other's room HELLO (its page instance).
      await a.waitForFunction(() => (window as any).lab.webrtcPeers().length === 1, undefined, deadline)
      await b.waitForFunction(() => (window as any).lab.webrtcPeers().length === 1, undefined, deadline)
      const [webrtcB] = await lab<string[]>(a, 'webrtcPeers')
      const [webrtcA] = await lab<string[]>(b, 'webrtcPeers')
      await a.waitForFunction((peer) => (window as any).lab.roomMessagesFrom(peer) > 0, webrtcB, deadline)
      await b.waitForFunction((peer) => (window as any).lab.roomMessagesFrom(peer) > 0, webrtcA, deadline)
      await a.waitForFunction(() => { const l = (window as any).lab; return l.synced() && l.peers().length === 1 && l.peers()[0].startsWith('tab:') }, undefined, deadline)
      await b.waitForFunction(() => { const l = (window as any).lab; return l.synced() && l.peers().length === 1 && l.peers()[0].startsWith('tab:') }, undefined, deadline)
      const [tabB] = await lab<string[]>(a, 'peers')

      const docSends = async (page: Page, peer: string): Promise<number> => (await lab<Record<string, number>>(page, 'sends'))[`ty:d: ${peer}`] ?? 0
      const before = {
        a: await docSends(a, webrtcB!), b: await docSends(b, webrtcA!), toTab: (await lab<{ messagesSent: number }>(a, 'traffic', tabB)).messagesSent, withWebrtcB: await lab(a, 'traffic', webrtcB)
      }
      const edits = 20
      for (let i = 0; i < edits; i++) {
        await lab(a, 'insert', `${i},`)
        await b.waitForFunction((n) => (window as any).lab.text().split(',').length === n + 1, i + 1, deadline)
      }
      await lab(b, 'insert', 'b')
      await waitForText(a, `${Array.from({ length: edits }, (_, i) => `${i},`).join('')}b`)
      // Every edit reached b's tab as a message of its own; none went over WebRTC, either way.
      expect((await lab<{ messagesSent: number }>(a, 'traffic', tabB)).messagesSent - before.toTab).toBeGreaterThanOrEqual(edits)
      expect(await docSends(a, webrtcB!)).toBe(before.a)
      expect(await docSends(b, webrtcA!)).toBe(before.b)
      expect(await lab(a, 'traffic', webrtcB)).toEqual(before.withWebrtcB)
      // The WebRTC connection is up all along: it carries the room channel, not the document.
      expect(await lab(a, 'webrtcPeers')).toEqual([webrtcB])
    })
  })
})
