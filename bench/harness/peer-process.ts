/**
 * One benchmark peer: a child process holding one Y.Doc and one provider — trystero-yjs or
 * y-webrtc — on one WebRTC implementation, driven by the coordinator over IPC (protocol.ts).
 * Both providers get the same treatment: the same data-channel counting, the same clock.
 */
import { readFileSync } from 'node:fs'
import * as Y from 'yjs'
import { WebSocket as NodeWebSocket } from 'ws'
import { absoluteNow, type Command, type PeerConfig, type Reply } from './protocol.js'

const config = JSON.parse(process.env['BENCH_PEER_CONFIG'] ?? 'null') as PeerConfig
if (config === null) throw new Error('peer-process: BENCH_PEER_CONFIG is not set')

// Node 20 has no global WebSocket (y-webrtc's signaling client needs one); an unheard `error`
// event would crash the process when a server goes away first.
class QuietWebSocket extends NodeWebSocket {
  constructor (...args: ConstructorParameters<typeof NodeWebSocket>) {
    super(...args)
    this.on('error', () => {})
  }
}
;(globalThis as { WebSocket?: unknown }).WebSocket = QuietWebSocket
// lib0's BroadcastChannel (y-webrtc's same-browser channel) is useless across processes, and
// y-webrtc reopens one on disconnect that nobody closes: the process would never exit.
delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel

const counters = { dataChannel: { messages: 0, bytes: 0 } }
const connections = new Set<{ close: () => void }>()
let channelOpenAt: number | null = null
/** When the provider was created (the join command), not when this process started. */
let createdAt = 0

const byteLength = (data: unknown): number =>
  typeof data === 'string' ? Buffer.byteLength(data) : (data as { byteLength?: number }).byteLength ?? 0

interface RtcClasses { RTCPeerConnection: any, RTCSessionDescription: unknown, RTCIceCandidate: unknown, cleanup: () => void }

/** The WebRTC implementation, with every data-channel send counted and the first open timed. */
const loadRtc = async (): Promise<RtcClasses> => {
  const { RTCPeerConnection, RTCDataChannel, RTCSessionDescription, RTCIceCandidate, cleanup } = config.rtc === 'wrtc'
    ? { ...(await import('@roamhq/wrtc' as string)).default, cleanup: () => {} }
    : { ...(await import('node-datachannel/polyfill')), cleanup: (await import('node-datachannel')).cleanup }
  const send = RTCDataChannel.prototype.send
  RTCDataChannel.prototype.send = function (this: unknown, data: unknown) {
    counters.dataChannel.messages++
    counters.dataChannel.bytes += byteLength(data)
    return send.call(this, data)
  }
  const watchOpen = (channel: { addEventListener: (name: string, f: () => void) => void }): void => {
    channel.addEventListener('open', () => { channelOpenAt ??= absoluteNow() })
  }
  class CountedPeerConnection extends RTCPeerConnection {
    constructor (rtcConfig?: RTCConfiguration) {
      super(config.rtc === 'node-datachannel' ? { ...rtcConfig, bindAddress: '127.0.0.1' } : rtcConfig)
      connections.add(this as unknown as { close: () => void })
      ;(this as unknown as EventTarget).addEventListener('datachannel', (event: Event) => watchOpen((event as RTCDataChannelEvent).channel as never))
    }

    createDataChannel (...args: unknown[]): unknown {
      const channel = super.createDataChannel(...args)
      watchOpen(channel)
      return channel
    }

    // simple-peer (y-webrtc) assigns `offer.sdp`; the node-datachannel polyfill's description is
    // read-only. Plain objects are what the WebRTC API accepts back anyway.
    async createOffer (options?: unknown): Promise<unknown> {
      const { type, sdp } = await super.createOffer(options)
      return { type, sdp }
    }

    async createAnswer (options?: unknown): Promise<unknown> {
      const { type, sdp } = await super.createAnswer(options)
      return { type, sdp }
    }
  }
  return { RTCPeerConnection: CountedPeerConnection, RTCSessionDescription, RTCIceCandidate, cleanup }
}

const rtc = await loadRtc()
const doc = new Y.Doc()
if (config.documentFile !== undefined) Y.applyUpdate(doc, readFileSync(config.documentFile))
const text = doc.getText('text')

interface ProviderHandle {
  synced: () => boolean
  peerCount: () => number
  /** Calls back on every change of synced state or peers. */
  onChange: (f: () => void) => void
  destroy: () => Promise<void>
}

const joinTrysteroYjs = async (): Promise<ProviderHandle> => {
  const [{ TrysteroProvider }, mqtt] = await Promise.all([import('../../src/index.js'), import('@trystero-p2p/mqtt')])
  const provider = new TrysteroProvider(doc, config.room, {
    appId: 'trystero-yjs-bench',
    joinRoom: mqtt.joinRoom,
    relayConfig: { urls: [config.signalingUrl] },
    rtcPolyfill: rtc.RTCPeerConnection,
    rtcConfig: { iceServers: [] },
    trickleIce: false,
    _test_only_sharedPeerIdleMs: 0
  } as never)
  provider.on('error', (error) => console.error(error.message))
  // No presence: awareness keepalives (every 15 s) would blur the count of messages per edit.
  provider.awareness.setLocalState(null)
  return {
    synced: () => provider.synced,
    peerCount: () => provider.peers.length,
    onChange: (f) => { provider.on('synced', f); provider.on('peers', f) },
    destroy: async () => await provider.destroy()
  }
}

/**
 * y-webrtc's `synced` event only fires when the room-level state flips, so it goes stale as
 * connections come and go. Each connection's own `synced` flag (set when that peer's step 2
 * arrives, as our definition) is what is read here, re-checked whenever a connection speaks.
 */
const joinYWebrtc = async (): Promise<ProviderHandle> => {
  const { WebrtcProvider } = await import('y-webrtc' as string) as { WebrtcProvider: any }
  const provider = new WebrtcProvider(config.room, doc, {
    signaling: [config.signalingUrl],
    peerOpts: { wrtc: rtc, config: { iceServers: [] } }
  })
  provider.awareness.setLocalState(null)
  interface Conn { connected: boolean, synced: boolean, peer: { on: (event: string, f: () => void) => void } }
  const conns = (): Conn[] => [...(provider.room?.webrtcConns.values() ?? [])] as Conn[]
  const listeners = new Set<() => void>()
  const notify = (): void => { for (const f of listeners) f() }
  const watched = new WeakSet<Conn>()
  provider.on('peers', () => {
    for (const conn of conns()) {
      if (watched.has(conn)) continue
      watched.add(conn)
      // Registered after y-webrtc's own handlers: they have updated `synced` when these run.
      for (const event of ['connect', 'data', 'close']) conn.peer.on(event, notify)
    }
    notify()
  })
  return {
    synced: () => conns().every((c) => c.connected && c.synced),
    peerCount: () => conns().filter((c) => c.connected).length,
    onChange: (f) => { listeners.add(f) },
    // Ended by process.exit: y-webrtc's graceful destroy can crash @roamhq/wrtc at exit.
    destroy: async () => { provider.disconnect() }
  }
}

let provider: ProviderHandle | null = null

const waitFor = async (what: string, check: () => boolean, subscribe: (wake: () => void) => void, timeoutMs: number): Promise<number> => {
  if (check()) return absoluteNow()
  return await new Promise((resolve, reject) => {
    let done = false
    const timer = setTimeout(() => { done = true; reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
    subscribe(() => {
      if (done || !check()) return
      done = true
      clearTimeout(timer)
      resolve(absoluteNow())
    })
  })
}

const typeCharacters = async (count: number, intervalMs: number): Promise<number[]> => {
  const sentAt: number[] = []
  for (let i = 0; i < count; i++) {
    if (intervalMs > 0 && i > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs))
    sentAt.push(absoluteNow())
    text.insert(text.length, String.fromCharCode(97 + (i % 26)))
  }
  return sentAt
}

const watchArrivals = async (count: number, timeoutMs: number): Promise<number[]> => {
  const base = text.length
  const arrivals: number[] = []
  const record = (): void => {
    const now = absoluteNow()
    while (arrivals.length < Math.min(count, text.length - base)) arrivals.push(now)
  }
  doc.on('update', record)
  try {
    await waitFor(`${count} characters`, () => arrivals.length >= count, (wake) => doc.on('update', wake), timeoutMs)
  } finally {
    doc.off('update', record)
  }
  return arrivals
}

const handle = async (command: Command): Promise<unknown> => {
  switch (command.type) {
    case 'join':
      // The provider's code is loaded first: module loading is not part of joining.
      await (config.provider === 'trystero-yjs' ? Promise.all([import('../../src/index.js'), import('@trystero-p2p/mqtt')]) : import('y-webrtc' as string))
      createdAt = absoluteNow()
      provider = config.provider === 'trystero-yjs' ? await joinTrysteroYjs() : await joinYWebrtc()
      return { createdAt }
    case 'wait-synced': {
      const p = provider!
      const at = await waitFor(`synced with ${command.peers} peers`, () => p.synced() && p.peerCount() === command.peers, p.onChange, command.timeoutMs)
      return { at, createdAt, channelOpenAt }
    }
    case 'wait-length': {
      const at = await waitFor(`${command.length} characters`, () => text.length === command.length, (wake) => doc.on('update', wake), command.timeoutMs)
      return { at, createdAt, channelOpenAt }
    }
    case 'type':
      return { sentAt: await typeCharacters(command.count, command.intervalMs) }
    case 'watch':
      return { arrivals: await watchArrivals(command.count, command.timeoutMs) }
    case 'counters':
      return structuredClone(counters)
    case 'reset-counters':
      counters.dataChannel = { messages: 0, bytes: 0 }
      return null
    case 'memory':
      ;(globalThis as { gc?: () => void }).gc?.()
      return process.memoryUsage()
    case 'leave':
      await provider?.destroy()
      for (const connection of connections) connection.close()
      return null
  }
}

/** A reply after the coordinator has gone (it gave up on a request) is dropped, not an EPIPE. */
const reply = (message: Reply): void => {
  if (process.connected) process.send!(message, () => {})
}
process.on('message', (message: { id: number, command: Command }) => {
  handle(message.command).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) => reply({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) })
  )
})
// The coordinator going away ends this peer; so does `leave` followed by disconnect.
process.on('disconnect', () => {
  try { rtc.cleanup() } catch {}
  process.exit(0)
})
process.send!({ ready: true })
