/**
 * A provider peer of the hostile benchmark, loaded from a contender's build (`config.dist`): the
 * victim, the honest third peer, or a peer to be killed. Everything the provider uses — yjs,
 * Trystero's MQTT strategy, node-datachannel — is resolved from that build's own tree, so each
 * contender runs on the dependencies it was built with (and with one yjs instance). Needs
 * `--experimental-import-meta-resolve` (hostile.ts sets it) to resolve from there.
 *
 * Driven over IPC (child-peer.ts); config in HOSTILE_PEER_CONFIG (see {@link HostilePeerConfig}).
 * The honest peer appends its send time to the Y.Array `probe` every `intervalMs`; the victim
 * records, for each, how long it took to arrive (same machine: one clock).
 */
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { writeHeapSnapshot } from 'node:v8'
import { installPeerGlobals } from './peer-runtime.js'
import { StallGauge } from './stall-gauge.js'
import { serveParent, type ChildCommand } from './child-peer.js'

export interface HostilePeerConfig {
  /** The contender's `dist/` directory. */
  dist: string
  brokerUrl: string
  appId: string
  roomId: string
  /** Characters of text this peer holds before it joins (the victim of the step 1 flood: 1 MiB). */
  documentChars?: number
}

const config = JSON.parse(process.env['HOSTILE_PEER_CONFIG'] ?? 'null') as HostilePeerConfig | null
if (config === null) throw new Error('hostile-peer: HOSTILE_PEER_CONFIG is not set')

installPeerGlobals()
const from = pathToFileURL(join(config.dist, 'index.js')).href
const load = async <T>(specifier: string): Promise<T> => await import(import.meta.resolve(specifier, from)) as T
const [Y, { TrysteroProvider }, { joinRoom, selfId }, { RTCPeerConnection }, { cleanup }] = await Promise.all([
  load<typeof import('yjs')>('yjs'),
  load<typeof import('../../src/index.js')>(from),
  load<typeof import('@trystero-p2p/mqtt')>('@trystero-p2p/mqtt'),
  load<typeof import('node-datachannel/polyfill')>('node-datachannel/polyfill'),
  load<typeof import('node-datachannel')>('node-datachannel')
])

const now = (): number => performance.timeOrigin + performance.now()
const connections = new Set<{ close: () => void }>()
/** Bytes that arrived on each connection, counted below the provider's guard (if it has one). */
const received = new WeakMap<object, number>()
const countReceived = (connection: object, channel: EventTarget): void => {
  EventTarget.prototype.addEventListener.call(channel, 'message', (event) => {
    received.set(connection, (received.get(connection) ?? 0) + (((event as MessageEvent).data as { byteLength?: number }).byteLength ?? 0))
  })
}
class CountedPeerConnection extends RTCPeerConnection {
  constructor (rtcConfig?: RTCConfiguration) {
    super({ ...rtcConfig, bindAddress: '127.0.0.1' } as RTCConfiguration)
    connections.add(this)
    this.addEventListener('datachannel', (event) => countReceived(this, (event as RTCDataChannelEvent).channel))
  }

  override createDataChannel (label: string, init?: RTCDataChannelInit): any {
    const channel = super.createDataChannel(label, init)
    countReceived(this, channel as unknown as EventTarget)
    return channel
  }
}

const doc = new Y.Doc()
const text = doc.getText('text')
if (config.documentChars !== undefined) text.insert(0, 'x'.repeat(config.documentChars))
const probe = doc.getArray<number>('probe')

const provider = new TrysteroProvider(doc as never, config.roomId, {
  appId: config.appId,
  joinRoom,
  relayConfig: { urls: [config.brokerUrl] },
  rtcPolyfill: CountedPeerConnection,
  rtcConfig: { iceServers: [] },
  trickleIce: false,
  _test_only_sharedPeerIdleMs: 0
} as never)
provider.awareness.setLocalState(null)

/** What the provider reported, in order. */
const reports: Array<{ kind: 'error' | 'warning', message: string, peerId?: string, limit?: string, at: number }> = []
for (const kind of ['error', 'warning'] as const) {
  provider.on(kind, (error: { message: string, peerId?: string, limit?: string }) => {
    reports.push({ kind, message: error.message, ...(error.peerId === undefined ? {} : { peerId: error.peerId }), ...(error.limit === undefined ? {} : { limit: error.limit }), at: now() })
  })
}
/** When each peer was last listed and last dropped by the provider, and when it last became synced. */
const listedAt = new Map<string, number>()
const droppedAt = new Map<string, number>()
let syncedAt = provider.synced ? now() : null
provider.on('peers', ({ added, removed }: { added: string[], removed: string[] }) => {
  for (const id of added) listedAt.set(id, now())
  for (const id of removed) droppedAt.set(id, now())
})
provider.on('synced', (synced: boolean) => { syncedAt = synced ? now() : null })

const latencies: number[] = []
probe.observe((event) => {
  const arrived = now()
  for (const delta of event.changes.delta) for (const sentAt of (delta.insert as number[] | undefined) ?? []) latencies.push(arrived - sentAt)
})
let prober: ReturnType<typeof setInterval> | null = null
let probesSent = 0
const gauge = new StallGauge()
const roomPeers = (): Record<string, object> => (provider.room?.getPeers() ?? {}) as Record<string, object>

/** Resolves when `check` holds; checked every 20 ms (the process may be too busy to do more). */
const until = async (what: string, check: () => boolean, deadlineMs: number): Promise<void> => {
  const deadline = Date.now() + deadlineMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const handle = async (command: ChildCommand): Promise<unknown> => {
  const deadlineMs = (command['deadlineMs'] as number | undefined) ?? 45_000
  const peerId = command['peerId'] as string
  switch (command.type) {
    case 'state':
      return { selfId, peers: provider.peers, synced: provider.synced, syncedAt, roomPeers: Object.keys(roomPeers()), reports }
    case 'wait-synced-with':
      await until(`synced with ${peerId}`, () => provider.synced && provider.peers.includes(peerId), deadlineMs)
      return null
    case 'wait-listed':
      await until(`${peerId} listed`, () => provider.peers.includes(peerId), deadlineMs)
      return listedAt.get(peerId)
    case 'wait-synced': {
      // Synced again after `after` (a peer that joined since made it unsynced).
      const after = command['after'] as number
      await until('synced', () => provider.synced && syncedAt !== null && syncedAt > after, deadlineMs)
      return syncedAt
    }
    case 'wait-dropped':
      await until(`${peerId} dropped`, () => !provider.peers.includes(peerId) && droppedAt.has(peerId), deadlineMs)
      return droppedAt.get(peerId)
    case 'wait-room-peer':
      await until(`room peer ${peerId}`, () => peerId in roomPeers(), deadlineMs)
      return null
    case 'wait-room-gone':
      await until(`${peerId} out of the room`, () => !(peerId in roomPeers()), deadlineMs)
      return now()
    case 'wait-text':
      await until(`text with ${command['includes']}`, () => text.toString().includes(command['includes'] as string), deadlineMs)
      return now()
    case 'received': {
      const connection = roomPeers()[peerId]
      return connection === undefined ? null : received.get(connection) ?? 0
    }
    case 'wait-received': {
      // Until `bytes` have arrived from the peer, or it is out of the room (we disconnected it).
      const connection = roomPeers()[peerId]
      if (connection === undefined) return 'gone'
      await until(`${command['bytes']} bytes from ${peerId}`, () => (received.get(connection) ?? 0) >= (command['bytes'] as number) || !(peerId in roomPeers()), deadlineMs)
      return peerId in roomPeers() ? 'received' : 'gone'
    }
    case 'probe-start':
      prober = setInterval(() => { probe.push([now()]); probesSent++ }, command['intervalMs'] as number)
      probesSent = 0
      return null
    case 'probe-stop':
      if (prober !== null) clearInterval(prober)
      prober = null
      return probesSent
    case 'probe-reset':
      latencies.length = 0
      return null
    case 'probe-latencies':
      // The probes not arrived by the deadline are lost (or still stuck behind the attack).
      await until(`${command['count']} probes`, () => latencies.length >= (command['count'] as number), deadlineMs).catch(() => {})
      return latencies.slice()
    case 'gauge-start':
      gauge.start()
      return null
    case 'gauge-stop':
      return gauge.stop()
    case 'memory': {
      // At rest: collect twice every `everyMs` until RSS has held within 1 MiB for `stillMs`,
      // and for `minMs` at least; the lowest of each figure. V8 hands freed pages back some
      // seconds after a burst of work (6–9 s after a peer's setup): a baseline waits for that.
      const everyMs = (command['everyMs'] as number | undefined) ?? 200
      const stillMs = (command['stillMs'] as number | undefined) ?? 400
      const minMs = (command['minMs'] as number | undefined) ?? 0
      const started = Date.now()
      const gc = (globalThis as { gc?: () => void }).gc!
      const readings: NodeJS.MemoryUsage[] = []
      const window = Math.ceil(stillMs / everyMs) + 1
      const still = (): boolean => {
        const last = readings.slice(-window).map((r) => r.rss)
        return last.length === window && Math.max(...last) - Math.min(...last) <= 1024 * 1024 && Date.now() - started >= minMs
      }
      while (!still() && Date.now() - started < minMs + 30 * everyMs) {
        await new Promise((resolve) => setTimeout(resolve, everyMs))
        gc(); gc()
        readings.push(process.memoryUsage())
      }
      const lowest = (key: 'rss' | 'heapUsed' | 'external' | 'arrayBuffers'): number => Math.min(...readings.slice(-window).map((r) => r[key]))
      return { rss: lowest('rss'), heapUsed: lowest('heapUsed'), external: lowest('external'), arrayBuffers: lowest('arrayBuffers') }
    }
    case 'heap-snapshot':
      (globalThis as { gc?: () => void }).gc!()
      return writeHeapSnapshot(command['path'] as string)
    default:
      throw new Error(`unknown command ${command.type}`)
  }
}

const shutdown = async (): Promise<void> => {
  if (prober !== null) clearInterval(prober)
  await provider.destroy().catch(() => {})
  for (const connection of connections) connection.close()
  try { cleanup() } catch {}
  process.exit(0)
}

serveParent(handle, shutdown)
