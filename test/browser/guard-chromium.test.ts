/**
 * The connection guard on Chromium's own RTCPeerConnection (its data channel keeps `onmessage`
 * behind a prototype accessor, unlike node-datachannel): two connections in one page, one guarded,
 * frames crafted as Trystero 0.25 sends them. Also reads what another feature needs from Chromium:
 * the DTLS fingerprints in both session descriptions.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type ViteDevServer } from 'vite'
import type { Browser, Page } from 'playwright-core'
import { canRunBrowser, launchChromium } from '../support/browser.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

interface PageResult {
  fingerprints: { aLocal: string | null, aRemote: string | null, bLocal: string | null, bRemote: string | null }
  beforeActive: string[]
  afterActive: string[]
  violations: Array<{ kind: string, byteLength: number, actionName: string | null }>
  closeEvents: string[]
  connectionState: string
  plainLocalCloseFired: boolean
  uncaught: string[]
}

describe.skipIf(!canRunBrowser)('connection guard in Chromium', () => {
  let server: ViteDevServer
  let browser: Browser
  let page: Page
  const pageErrors: string[] = []

  beforeAll(async () => {
    server = await createServer({ root, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: 0 } })
    await server.listen()
    browser = await launchChromium()
    const url = `${server.resolvedUrls!.local[0]!}test/browser/fixtures/guard-page.html`
    const context = await browser.newContext()
    // With the media permission Chromium offers 127.0.0.1 candidates (no mDNS names).
    await context.grantPermissions(['camera', 'microphone'], { origin: new URL(url).origin })
    page = await context.newPage()
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(url)
    await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 60_000 })
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it('contains exceptions, holds frames of unbound rooms, and closes so that the channel says so', async () => {
    const result = await page.evaluate(async (): Promise<PageResult> => {
      const lab = (window as any).lab
      const token = 'c'.repeat(64)
      const frame = (fields: object, roomToken = token): Uint8Array<ArrayBuffer> => lab.encodeRoomFrame(roomToken, lab.encodeActionChunk(fields))
      const fingerprint = (sdp: string | undefined): string | null => /^a=fingerprint:(\S+ \S+)/m.exec(sdp ?? '')?.[1] ?? null

      const connect = async (a: RTCPeerConnection, b: RTCPeerConnection): Promise<[RTCDataChannel, RTCDataChannel]> => {
        a.onicecandidate = (e) => { if (e.candidate) void b.addIceCandidate(e.candidate) }
        b.onicecandidate = (e) => { if (e.candidate) void a.addIceCandidate(e.candidate) }
        const aChannel = a.createDataChannel('data')
        const bChannel = new Promise<RTCDataChannel>((resolve) => { b.ondatachannel = (e) => resolve(e.channel) })
        await a.setLocalDescription()
        await b.setRemoteDescription(a.localDescription!)
        await b.setLocalDescription()
        await a.setRemoteDescription(b.localDescription!)
        if (aChannel.readyState !== 'open') await new Promise((resolve) => { aChannel.onopen = resolve })
        return [aChannel, await bChannel]
      }

      const Guarded = lab.guardRtcPolyfill(RTCPeerConnection, { activityIntervalMs: 0 })
      const a: RTCPeerConnection = new Guarded({ iceServers: [] })
      const b = new RTCPeerConnection({ iceServers: [] })
      const [aChannel, bChannel] = await connect(a, b)
      const fingerprints = {
        aLocal: fingerprint(a.localDescription?.sdp), aRemote: fingerprint(a.remoteDescription?.sdp),
        bLocal: fingerprint(b.localDescription?.sdp), bRemote: fingerprint(b.remoteDescription?.sdp)
      }

      // Trystero's side of `a`: array buffers, one handler that throws on JSON it cannot parse.
      aChannel.binaryType = 'arraybuffer'
      const seen: string[] = []
      let received = 0
      const arrived = new Set<() => void>()
      aChannel.onmessage = (event: MessageEvent) => {
        const bytes = new Uint8Array(event.data as ArrayBuffer)
        const chunk = bytes.subarray(3 + ((bytes[1]! << 8) | bytes[2]!))
        const name = new TextDecoder().decode(chunk.subarray(0, 32)).replaceAll('\0', '')
        seen.push(`${name}#${chunk[33]}`)
        if ((chunk[34]! & 8) !== 0) JSON.parse(new TextDecoder().decode(chunk.subarray(36)))
      }
      const guard = lab.connectionGuard(a)
      guard.on('activity', () => { received++; for (const wake of arrived) wake() })
      const receivedCount = async (count: number): Promise<void> => await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${received} of ${count} frames arrived`)), 20_000)
        const check = (): void => { if (received >= count) { clearTimeout(timer); arrived.delete(check); resolve() } }
        arrived.add(check)
        check()
      })
      const violations: PageResult['violations'] = []
      guard.on('violation', (v: any) => violations.push({ kind: v.kind, byteLength: v.byteLength, actionName: v.actionName ?? null }))

      // Before the room is bound on this connection: held.
      bChannel.send(frame({ actionName: '@_ping', nonce: 1 }))
      await receivedCount(1)
      const beforeActive = [...seen]
      // Both handshake-ready frames cross: active; the held frame follows, then new ones pass.
      aChannel.send(frame({ actionName: '@_hsready', nonce: 0 }))
      bChannel.send(frame({ actionName: '@_hsready', nonce: 0 }))
      bChannel.send(frame({ actionName: '@_ping', nonce: 2, json: true, payload: new TextEncoder().encode('{"not json') }))
      bChannel.send(frame({ actionName: '@_ping', nonce: 3 }))
      bChannel.send(frame({ actionName: '@_ping', nonce: 4 }, 'd'.repeat(64)))
      await receivedCount(5)
      const afterActive = [...seen]

      // close(): Trystero listens for the channel's close event; the connection closes after it.
      const closeEvents: string[] = []
      const bClosed = new Promise<void>((resolve) => { bChannel.onclose = () => { closeEvents.push('remote channel'); resolve() } })
      const aClosed = new Promise<void>((resolve) => { aChannel.onclose = () => { closeEvents.push('local channel'); resolve() } })
      guard.close('test')
      // The guard closes the connection from its own close listener, in the same dispatch.
      await Promise.all([aClosed, bClosed])

      // Plain Chromium, for the record: does closing the connection fire the local channel's close?
      const c = new RTCPeerConnection({ iceServers: [] })
      const d = new RTCPeerConnection({ iceServers: [] })
      const [cChannel, dChannel] = await connect(c, d)
      let plainLocalCloseFired = false
      cChannel.onclose = () => { plainLocalCloseFired = true }
      const dClosed = new Promise<void>((resolve) => { dChannel.onclose = () => resolve() })
      c.close()
      await dClosed
      d.close()
      b.close()
      return { fingerprints, beforeActive, afterActive, violations, closeEvents, connectionState: a.connectionState, plainLocalCloseFired, uncaught: (window as any).uncaught }
    })
    console.log(`Chromium: ${JSON.stringify(result)}`)

    expect(result.fingerprints.aLocal).toMatch(/^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    expect(result.fingerprints.aRemote).toBe(result.fingerprints.bLocal)
    expect(result.fingerprints.bRemote).toBe(result.fingerprints.aLocal)
    expect(result.beforeActive).toEqual([])
    expect(result.afterActive).toEqual(['@_hsready#0', '@_ping#1', '@_ping#2', '@_ping#3'])
    expect(result.violations).toEqual([{ kind: 'malformed-frame', byteLength: 3 + 64 + 36 + 10, actionName: '@_ping' }])
    expect(result.closeEvents).toContain('local channel')
    expect(result.connectionState).toBe('closed')
    expect(result.uncaught).toEqual([])
    expect(pageErrors).toEqual([])
  })
})
