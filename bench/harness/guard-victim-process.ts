/**
 * The peer under attack, in its own process so that a crash is observable and its memory is its
 * own: a TrysteroProvider on the MQTT strategy and node-datachannel, with or without the
 * connection guard, driven over IPC (child-peer.ts). Config in GUARD_VICTIM_CONFIG (JSON, see
 * VictimConfig). Used by test/webrtc/guard.test.ts and the guard-flood benchmark.
 */
import * as Y from 'yjs'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { cleanup } from 'node-datachannel'
import { joinRoom, selfId } from '@trystero-p2p/mqtt'
import { TrysteroProvider, TrysteroYjsError, docChannelKey } from '../../src/index.js'
import { claimActionNames, connectionGuard, guardRtcPolyfill, type ConnectionGuardOptions } from '../../src/guard/index.js'
import { roomChannelName } from '../../src/protocol/room-messages.js'
import { serveParent, type ChildCommand } from './child-peer.js'

export interface VictimConfig {
  brokerUrl: string
  appId: string
  roomId: string
  guarded: boolean
  guardOptions?: ConnectionGuardOptions
  /** On a violation: only count it, or also close that connection (as the provider will). */
  onViolation?: 'record' | 'close'
  /**
   * The provider installs its own guard and acts on it (disconnects the peer), as it does for
   * any app; `guarded` and `onViolation` are then ignored.
   */
  providerGuard?: boolean
  /** More provider options (limits, password, …). */
  providerOptions?: Record<string, unknown>
}

const config = JSON.parse(process.env['GUARD_VICTIM_CONFIG'] ?? 'null') as VictimConfig
if (config === null) throw new Error('guard-victim: GUARD_VICTIM_CONFIG is not set')

const connections = new Set<RTCPeerConnection>()
/** Bytes that arrived on each connection's data channels, counted below the guard. */
const received = new WeakMap<object, number>()
let receiveWaiters: Array<() => void> = []
const countReceived = (connection: object, channel: EventTarget): void => {
  // The prototype's addEventListener: the guard's own (on the channel) would count only what it passes on.
  EventTarget.prototype.addEventListener.call(channel, 'message', (event) => {
    const data = (event as MessageEvent).data as { byteLength?: number }
    received.set(connection, (received.get(connection) ?? 0) + (data.byteLength ?? 0))
    for (const wake of [...receiveWaiters]) wake()
  })
}
const violations: Record<string, number> = {}
const firstViolations: string[] = []

const Base = config.guarded && config.providerGuard !== true ? guardRtcPolyfill(RTCPeerConnection as never, config.guardOptions) as unknown as typeof RTCPeerConnection : RTCPeerConnection
class VictimPeerConnection extends Base {
  override createDataChannel (label: string, init?: RTCDataChannelInit): any {
    const channel = super.createDataChannel(label, init)
    countReceived(this, channel as unknown as EventTarget)
    return channel
  }

  constructor (rtcConfig?: RTCConfiguration) {
    super({ ...rtcConfig, bindAddress: '127.0.0.1' } as RTCConfiguration)
    connections.add(this)
    this.addEventListener('datachannel', (event) => countReceived(this, (event as RTCDataChannelEvent).channel))
    const guard = connectionGuard(this)
    guard?.on('violation', (violation) => {
      violations[violation.kind] = (violations[violation.kind] ?? 0) + 1
      if (firstViolations.length < 20) firstViolations.push(violation.message.slice(0, 300))
      if (config.onViolation === 'close') guard.close(violation.kind)
    })
  }
}

if (config.guarded && config.providerGuard !== true) {
  // What the integration will do: claim the room channel and our document's channel, in this room.
  claimActionNames([roomChannelName, docChannelKey('')], { appId: config.appId, roomId: config.roomId })
}

const doc = new Y.Doc()
const text = doc.getText('t')
const provider = new TrysteroProvider(doc, config.roomId, {
  appId: config.appId,
  joinRoom,
  relayConfig: { urls: [config.brokerUrl] },
  rtcPolyfill: VictimPeerConnection,
  // The victim sets up its own guard (or none) and reacts to violations itself (onViolation),
  // unless the provider is to do it as for any app.
  connectionGuard: config.providerGuard === true,
  rtcConfig: { iceServers: [] },
  trickleIce: false,
  _test_only_sharedPeerIdleMs: 0,
  ...config.providerOptions
} as never)
/** What the provider reported, for the tests to read. */
const reports: Array<{ kind: 'error' | 'warning', message: string, peerId?: string, limit?: string, figure?: number }> = []
let reportWaiters: Array<() => void> = []
const record = (kind: 'error' | 'warning') => (error: TrysteroYjsError): void => {
  reports.push({ kind, message: error.message, ...(error.peerId === undefined ? {} : { peerId: error.peerId }), ...(error.limit === undefined ? {} : { limit: error.limit }), ...(error.figure === undefined ? {} : { figure: error.figure }) })
  for (const wake of [...reportWaiters]) wake()
}
provider.on('error', record('error'))
provider.on('warning', record('warning'))

const left = new Set<string>()
/** Woken on every join and leave Trystero reports in the room. */
let roomWaiters: Array<() => void> = []
const wakeRoomWaiters = (): void => { for (const wake of [...roomWaiters]) wake() }
const onRoomEvent = (wake: () => void): (() => void) => {
  roomWaiters.push(wake)
  return () => { roomWaiters = roomWaiters.filter((w) => w !== wake) }
}

const roomPeers = (): Record<string, RTCPeerConnection> => (provider.room?.getPeers() ?? {}) as Record<string, RTCPeerConnection>

const whenTrue = async (what: string, check: () => boolean, deadlineMs: number, subscribe: (wake: () => void) => () => void): Promise<void> => {
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error(`victim: timed out waiting for ${what}`)) }, deadlineMs)
    const stop = subscribe(() => { if (check()) { clearTimeout(timer); stop(); resolve() } })
  })
}

const guardStats = (connection: RTCPeerConnection | undefined): Record<string, unknown> | null => {
  const guard = connectionGuard(connection)
  if (guard === undefined) return null
  const { receivedBytes, receivedMessages, droppedFrames, malformedFrames, unparsedFrames, heldBytes, inFlightBytes, lastReceivedAt, closed } = guard
  return { receivedBytes, receivedMessages, droppedFrames, malformedFrames, unparsedFrames, heldBytes, inFlightBytes, lastReceivedAt, closed }
}

const handle = async (command: ChildCommand): Promise<unknown> => {
  switch (command.type) {
    case 'state': {
      const peers = roomPeers()
      return {
        selfId,
        text: text.toString(),
        providerPeers: provider.peers,
        roomPeers: Object.keys(peers),
        synced: provider.synced,
        violations,
        firstViolations,
        guards: Object.fromEntries(Object.entries(peers).map(([id, connection]) => [id, guardStats(connection)])),
        left: [...left],
        reports
      }
    }
    case 'wait-report': {
      const pattern = new RegExp(command['pattern'] as string)
      const found = (): boolean => reports.some((r) => pattern.test(r.message))
      await whenTrue(`a report matching ${pattern.source}`, found, command['deadlineMs'] as number ?? 30_000,
        (wake) => { reportWaiters.push(wake); return () => { reportWaiters = reportWaiters.filter((w) => w !== wake) } })
      return reports.find((r) => pattern.test(r.message))
    }
    case 'wait-peers': {
      const expected = (command['peers'] as string[]).slice().sort().join(' ')
      await whenTrue(`provider peers [${expected}]`, () => provider.peers.slice().sort().join(' ') === expected, command['deadlineMs'] as number ?? 30_000,
        (wake) => { provider.on('peers', wake); return () => provider.off('peers', wake) })
      return provider.peers
    }
    case 'insert':
      text.insert(text.length, command['text'] as string)
      return null
    case 'wait-text':
      await whenTrue(`text containing ${command['includes']}`, () => text.toString().includes(command['includes'] as string), command['deadlineMs'] as number ?? 30_000,
        (wake) => { doc.on('update', wake); return () => doc.off('update', wake) })
      return text.toString()
    case 'wait-synced-with':
      await whenTrue(`synced with ${command['peerId']}`, () => provider.synced && provider.peers.includes(command['peerId'] as string), 45_000,
        (wake) => { provider.on('peers', wake); provider.on('synced', wake); return () => { provider.off('peers', wake); provider.off('synced', wake) } })
      return null
    case 'wait-room-peer':
      await whenTrue(`room peer ${command['peerId']}`, () => (command['peerId'] as string) in roomPeers(), 45_000, onRoomEvent)
      return guardStats(roomPeers()[command['peerId'] as string])
    case 'wait-left':
      await whenTrue(`peer ${command['peerId']} to leave`, () => left.has(command['peerId'] as string), 30_000, onRoomEvent)
      return Object.keys(roomPeers())
    case 'received': {
      const connection = roomPeers()[command['peerId'] as string]
      if (connection === undefined) throw new Error('no connection to that peer')
      return received.get(connection) ?? 0
    }
    case 'wait-received': {
      const connection = roomPeers()[command['peerId'] as string]
      if (connection === undefined) throw new Error('no connection to that peer')
      await whenTrue(`${command['bytes']} bytes from ${command['peerId']}`, () => (received.get(connection) ?? 0) >= (command['bytes'] as number), 120_000,
        (wake) => { receiveWaiters.push(wake); return () => { receiveWaiters = receiveWaiters.filter((w) => w !== wake) } })
      return guardStats(connection)
    }
    case 'close-peer': {
      const guard = connectionGuard(roomPeers()[command['peerId'] as string])
      if (guard === undefined) throw new Error('no guarded connection to that peer')
      guard.close(command['reason'] as string)
      return null
    }
    case 'memory': {
      const gc = (globalThis as { gc?: () => void }).gc!
      // Let finished network callbacks run, then collect twice (the second frees what finalizers released).
      await new Promise((resolve) => setImmediate(resolve))
      gc(); gc()
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
      return { rss, heapUsed, external, arrayBuffers }
    }
    default:
      throw new Error(`unknown command ${command.type}`)
  }
}

const shutdown = async (): Promise<void> => {
  await provider.destroy().catch(() => {})
  for (const connection of connections) connection.close()
  try { cleanup() } catch {}
  process.exit(0)
}

// Joins and leaves as Trystero reports them (the attacker has no document open: the provider
// does not list it). The provider shares the room's one handler slot with us.
const watchRoom = (): void => {
  const room = provider.room
  if (room === null || room.onPeerLeave !== null) return
  room.onPeerJoin = () => wakeRoomWaiters()
  room.onPeerLeave = (peerId: string) => {
    left.add(peerId)
    wakeRoomWaiters()
  }
}
provider.on('status', watchRoom)
watchRoom()

serveParent(handle, shutdown)
