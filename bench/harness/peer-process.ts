/**
 * One benchmark peer: a child process holding one Y.Doc and one provider — trystero-yjs or
 * y-webrtc — on one WebRTC implementation, driven by the coordinator over IPC (protocol.ts).
 * Both providers get the same treatment: the same data-channel counting, the same clock.
 */
import { readFileSync } from 'node:fs'
import { writeHeapSnapshot } from 'node:v8'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { installPeerGlobals, loadOurs, memoryAtRest } from './peer-runtime.js'
import { absoluteNow, type Command, type Counters, type PeerConfig, type Reply } from './protocol.js'
import { addAnatomy, anatomyOf, emptyAnatomy } from './send-anatomy.js'
import { ChunkReader, type TimelineEvent } from './timeline.js'

const config = JSON.parse(process.env['BENCH_PEER_CONFIG'] ?? 'null') as PeerConfig
if (config === null) throw new Error('peer-process: BENCH_PEER_CONFIG is not set')

installPeerGlobals()

const freshCounters = (): Counters => ({
  dataChannel: { messages: 0, bytes: 0 },
  ...(config.anatomy === true ? { anatomy: { sent: emptyAnatomy(), localUpdates: { count: 0, bytes: 0 } } } : {})
})
let counters = freshCounters()
/** Open connections, closed at `leave` (Trystero does not close one the far side closed first). */
const connections = new Set<{ close: () => void }>()
let channelOpenAt: number | null = null
/** When the provider was created (the join command), not when this process started. */
let createdAt = 0

/** Only with `config.timeline`: what happened when (timeline.ts). */
const timeline: TimelineEvent[] | null = config.timeline === true ? [] : null
const sentChunks = new ChunkReader()
const receivedChunks = new ChunkReader()

const byteLength = (data: unknown): number =>
  typeof data === 'string' ? Buffer.byteLength(data) : (data as { byteLength?: number }).byteLength ?? 0

/** The bytes of a sent message, for its anatomy. */
const sentBytes = (data: unknown): Uint8Array =>
  ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : data instanceof ArrayBuffer ? new Uint8Array(data) : Buffer.from(String(data))

interface RtcClasses { RTCPeerConnection: any, RTCSessionDescription: unknown, RTCIceCandidate: unknown, cleanup: () => void }

/** The WebRTC implementation, with every data-channel send counted and the first open timed. */
const loadRtc = async (): Promise<RtcClasses> => {
  const { RTCPeerConnection, RTCDataChannel, RTCSessionDescription, RTCIceCandidate, cleanup } = config.rtc === 'wrtc'
    ? { ...(await import('@roamhq/wrtc' as string)).default, cleanup: () => {} }
    : { ...(await import('node-datachannel/polyfill')), cleanup: (await import('node-datachannel')).cleanup }
  const send = config.sendDelayMs === undefined ? RTCDataChannel.prototype.send : delayed(RTCDataChannel.prototype.send, config.sendDelayMs)
  RTCDataChannel.prototype.send = function (this: unknown, data: unknown) {
    counters.dataChannel.messages++
    counters.dataChannel.bytes += byteLength(data)
    if (counters.anatomy !== undefined) counters.anatomy.sent = addAnatomy(counters.anatomy.sent, anatomyOf(config.provider, sentBytes(data)))
    timeline?.push({ at: absoluteNow(), kind: 'send', ...sentChunks.describe(data) })
    return send.call(this, data)
  }
  const watchOpen = (channel: { addEventListener: (name: string, f: (event: any) => void) => void }): void => {
    channel.addEventListener('open', () => {
      channelOpenAt ??= absoluteNow()
      timeline?.push({ at: absoluteNow(), kind: 'open' })
    })
    if (timeline !== null) channel.addEventListener('message', (event: MessageEvent) => timeline.push({ at: absoluteNow(), kind: 'recv', ...receivedChunks.describe(event.data) }))
  }
  class CountedPeerConnection extends RTCPeerConnection {
    constructor (rtcConfig?: RTCConfiguration) {
      super(config.rtc === 'node-datachannel' ? { ...rtcConfig, bindAddress: config.bindAddress ?? '127.0.0.1' } : rtcConfig)
      connections.add(this as unknown as { close: () => void })
      ;(this as unknown as EventTarget).addEventListener('datachannel', (event: Event) => watchOpen((event as RTCDataChannelEvent).channel as never))
    }

    // A closed connection leaves the set: Trystero makes and closes some 20 per join (its offer
    // pool), and a set holding them all grew the heap of a peer that reconnects (cycles scenario).
    close (): void {
      connections.delete(this as unknown as { close: () => void })
      super.close()
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

/**
 * `send` that hands each message to the channel `delayMs` later, in order per channel: the
 * propagation delay of a link, which this kernel's traffic control cannot add (no netem; see
 * bench/harness/shaped-link.ts). A message for a channel that closed meanwhile is dropped.
 */
function delayed (send: (data: unknown) => void, delayMs: number): (this: unknown, data: unknown) => void {
  const queues = new WeakMap<object, Array<{ data: unknown, at: number }>>()
  return function (this: unknown, data: unknown) {
    const channel = this as object
    let queue = queues.get(channel)
    if (queue === undefined) queues.set(channel, queue = [])
    queue.push({ data, at: performance.now() + delayMs })
    if (queue.length > 1) return
    const pump = (): void => {
      const q = queue!
      while (q.length > 0 && q[0]!.at <= performance.now()) {
        try { send.call(channel, q.shift()!.data) } catch { q.length = 0 }
      }
      if (q.length > 0) setTimeout(pump, q[0]!.at - performance.now())
    }
    setTimeout(pump, delayMs)
  }
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
  disconnect: () => Promise<void>
  connect: () => Promise<void>
  destroy: () => Promise<void>
}

const joinTrysteroYjs = async (): Promise<ProviderHandle> => {
  const [{ TrysteroProvider }, mqtt] = await loadOurs(config.build)
  const provider = new TrysteroProvider(doc, config.room, {
    appId: 'trystero-yjs-bench',
    joinRoom: timedJoinRoom(mqtt.joinRoom),
    relayConfig: { urls: [config.signalingUrl] },
    rtcPolyfill: rtc.RTCPeerConnection,
    rtcConfig: { iceServers: [] },
    trickleIce: false,
    ...(config.compactSync === undefined ? {} : { compactSync: config.compactSync }),
    ...(config.stateSnapshot === undefined ? {} : { stateSnapshot: config.stateSnapshot }),
    ...(config.keepConnections === true ? {} : { _test_only_sharedPeerIdleMs: 0 })
  } as never)
  provider.on('error', (error) => console.error(error.message))
  // No presence: awareness keepalives (every 15 s) would blur the count of messages per edit.
  provider.awareness.setLocalState(null)
  return {
    synced: () => provider.synced,
    peerCount: () => provider.peers.length,
    onChange: (f) => { provider.on('synced', f); provider.on('peers', f) },
    disconnect: async () => await provider.disconnect(),
    connect: async () => await provider.connect(),
    destroy: async () => await provider.destroy()
  }
}

/**
 * The floor on Trystero (ProviderKind `trystero-push`): the holder's V1 state is encoded before
 * anyone joins and sent, on one action, the moment Trystero reports a peer (its handshake done);
 * a receiver applies it as it comes, with no request, no check, no protocol. No provider can do
 * with less on Trystero.
 */
const joinTrysteroPush = async (): Promise<ProviderHandle> => {
  const mqtt = await import('@trystero-p2p/mqtt')
  const room = timedJoinRoom(mqtt.joinRoom)({
    appId: 'trystero-yjs-bench',
    relayConfig: { urls: [config.signalingUrl] },
    rtcPolyfill: rtc.RTCPeerConnection,
    rtcConfig: { iceServers: [] },
    trickleIce: false
  }, config.room)
  const state = doc.store.clients.size > 0 ? Y.encodeStateAsUpdate(doc) : null
  const push = room.makeAction('push')
  const peers = new Set<string>()
  const listeners: Array<() => void> = []
  const changed = (): void => { for (const f of listeners) f() }
  push.onMessage = (data: Uint8Array) => { Y.applyUpdate(doc, data) }
  room.onPeerJoin = (peerId: string) => {
    peers.add(peerId)
    if (state !== null) void push.send(state, { target: peerId })
    changed()
  }
  room.onPeerLeave = (peerId: string) => { peers.delete(peerId); changed() }
  const leave = async (): Promise<void> => { await room.leave() }
  return {
    synced: () => true,
    peerCount: () => peers.size,
    onChange: (f) => { listeners.push(f) },
    disconnect: leave,
    connect: async () => { throw new Error('the Trystero floor does not reconnect') },
    destroy: leave
  }
}

/**
 * y-webrtc sets a connection's `synced` flag only while its room is not yet synced
 * (y-webrtc.js: `messageYjsSyncStep2 && !room.synced`), so a peer arriving after the room
 * synced never gets one. Each connection is judged here as ours is: synced once that peer's
 * sync step 2 arrived, read from the bytes it sent.
 */
const isSyncStep2 = (data: Uint8Array): boolean => {
  const decoder = decoding.createDecoder(data)
  return decoding.readVarUint(decoder) === 0 /* messageSync */ && decoding.readVarUint(decoder) === 1 /* step 2 */
}

const joinYWebrtc = async (): Promise<ProviderHandle> => {
  const { WebrtcProvider } = await import('y-webrtc' as string) as { WebrtcProvider: any }
  const provider = new WebrtcProvider(config.room, doc, {
    signaling: [config.signalingUrl],
    peerOpts: { wrtc: rtc, config: { iceServers: [] } }
  })
  provider.awareness.setLocalState(null)
  interface Conn { connected: boolean, peer: { on: (event: string, f: (data?: Uint8Array) => void) => void } }
  const conns = (): Conn[] => [...(provider.room?.webrtcConns.values() ?? [])] as Conn[]
  const listeners = new Set<() => void>()
  const notify = (): void => { for (const f of listeners) f() }
  const watched = new WeakSet<Conn>()
  const receivedStep2 = new WeakSet<Conn>()
  // 'peers' fires when a connection is created, before its channel opens: no data is missed.
  provider.on('peers', () => {
    for (const conn of conns()) {
      if (watched.has(conn)) continue
      watched.add(conn)
      // Only the first step 2 changes anything; 'connect' and 'close' cover the rest.
      conn.peer.on('data', (data) => {
        if (receivedStep2.has(conn) || !isSyncStep2(data!)) return
        receivedStep2.add(conn)
        notify()
      })
      for (const event of ['connect', 'close']) conn.peer.on(event, notify)
    }
    notify()
  })
  return {
    synced: () => conns().every((c) => c.connected && receivedStep2.has(c)),
    peerCount: () => conns().filter((c) => c.connected).length,
    onChange: (f) => { listeners.add(f) },
    disconnect: async () => { provider.disconnect() },
    connect: async () => { provider.connect() },
    // Ended by process.exit: y-webrtc's graceful destroy can crash @roamhq/wrtc at exit.
    destroy: async () => { provider.disconnect() }
  }
}

let provider: ProviderHandle | null = null

/**
 * When a condition became true, stamped in this process as it happens: a coordinator that asks
 * later must not get its own asking time. `stamp()` re-reads the state; `since` is the first
 * instant of the current stretch of that state.
 */
class Stamped<T> {
  private state: T
  private since = absoluteNow()
  private readonly waiters = new Set<() => void>()
  constructor (private readonly read: () => T) { this.state = read() }
  stamp (): void {
    const state = this.read()
    if (state === this.state) return
    this.state = state
    this.since = absoluteNow()
    for (const wake of [...this.waiters]) wake()
  }

  /** Resolves with the instant the state became `wanted`, now or later. */
  async when (wanted: T, what: string, timeoutMs: number): Promise<number> {
    if (this.state === wanted) return this.since
    return await new Promise((resolve, reject) => {
      const wake = (): void => {
        if (this.state !== wanted) return
        clearTimeout(timer)
        this.waiters.delete(wake)
        resolve(this.since)
      }
      const timer = setTimeout(() => {
        this.waiters.delete(wake)
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (now: ${String(this.state)})`))
      }, timeoutMs)
      this.waiters.add(wake)
    })
  }
}

/** Peers synced with (-1 while not synced). */
let syncedWith: Stamped<number> | null = null
const textLength = new Stamped(() => text.length)
// On afterTransaction, not update: an update listener makes Yjs encode every transaction,
// remote ones included, which is the harness's cost, not the provider's (y-webrtc listens to
// update itself and pays it anyway; ours does not for what it applies).
doc.on('afterTransaction', () => textLength.stamp())
if (timeline !== null) {
  doc.on('beforeTransaction', () => timeline.push({ at: absoluteNow(), kind: 'tx-start' }))
  doc.on('beforeObserverCalls', () => timeline.push({ at: absoluteNow(), kind: 'tx-integrated' }))
  doc.on('afterTransaction', () => timeline.push({ at: absoluteNow(), kind: 'tx-end' }))
  // After the update listeners: Yjs encodes a transaction for them only if there are any.
  doc.on('afterAllTransactions', () => timeline.push({ at: absoluteNow(), kind: 'tx-cleanup-end' }))
}

/** Trystero's room with each action's handler timed (the provider's work on a message). */
const timedJoinRoom = (joinRoom: (...args: any[]) => any) => (...args: any[]) => {
  const room = joinRoom(...args)
  if (timeline === null) return room
  const makeAction = room.makeAction.bind(room)
  room.makeAction = (name: string) => {
    const action = makeAction(name)
    let handler: ((...a: any[]) => unknown) | null = null
    return {
      send: (...a: unknown[]) => action.send(...a),
      get onMessage () { return handler },
      set onMessage (f: ((...a: any[]) => unknown) | null) {
        handler = f
        action.onMessage = f === null ? null : (...a: any[]) => {
          timeline.push({ at: absoluteNow(), kind: 'handler-start', what: name, bytes: (a[0] as Uint8Array)?.byteLength })
          try { return f(...a) } finally { timeline.push({ at: absoluteNow(), kind: 'handler-end', what: name }) }
        }
      },
      get onReceiveProgress () { return action.onReceiveProgress },
      set onReceiveProgress (f: unknown) { action.onReceiveProgress = f }
    }
  }
  return room
}
// The Yjs update each of this peer's own edits made, as providers get it from the `update` event.
// Only for the wire scenario: an update listener makes Yjs encode remote transactions too.
if (config.anatomy === true) {
  doc.on('update', (update: Uint8Array, _origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
    if (counters.anatomy === undefined || !transaction.local) return
    counters.anatomy.localUpdates.count++
    counters.anatomy.localUpdates.bytes += update.byteLength
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

/** Arrival times of the characters after the text's length when `watch` was armed. */
let watching: { base: number, arrivals: number[], stop: () => void } | null = null

const armWatch = (): void => {
  watching?.stop()
  const base = text.length
  const arrivals: number[] = []
  const record = (): void => {
    const now = absoluteNow()
    while (arrivals.length < text.length - base) arrivals.push(now)
  }
  doc.on('afterTransaction', record)
  watching = { base, arrivals, stop: () => doc.off('afterTransaction', record) }
}

const collectArrivals = async (count: number, timeoutMs: number): Promise<number[]> => {
  const w = watching
  if (w === null) throw new Error('arrivals asked before watch was armed')
  try {
    await textLength.when(w.base + count, `${count} characters after ${w.base}`, timeoutMs)
  } finally {
    w.stop()
    watching = null
  }
  return w.arrivals.slice(0, count)
}

const handle = async (command: Command): Promise<unknown> => {
  switch (command.type) {
    case 'join': {
      // The provider's code is loaded first: module loading is not part of joining.
      await (config.provider === 'trystero-yjs' ? loadOurs(config.build) : config.provider === 'trystero-push' ? import('@trystero-p2p/mqtt') : import('y-webrtc' as string))
      createdAt = absoluteNow()
      const p = config.provider === 'trystero-yjs' ? await joinTrysteroYjs() : config.provider === 'trystero-push' ? await joinTrysteroPush() : await joinYWebrtc()
      provider = p
      const stamped = new Stamped(() => p.synced() ? p.peerCount() : -1)
      syncedWith = stamped
      p.onChange(() => stamped.stamp())
      return { createdAt }
    }
    case 'wait-synced': {
      const at = await syncedWith!.when(command.peers, `synced with ${command.peers} peers`, command.timeoutMs)
      return { at, createdAt, channelOpenAt }
    }
    case 'wait-length': {
      const at = await textLength.when(command.length, `${command.length} characters`, command.timeoutMs)
      return { at, createdAt, channelOpenAt }
    }
    case 'type':
      return { sentAt: await typeCharacters(command.count, command.intervalMs) }
    case 'watch':
      armWatch()
      return null
    case 'arrivals':
      return { arrivals: await collectArrivals(command.count, command.timeoutMs) }
    case 'counters':
      return structuredClone(counters)
    case 'timeline':
      return timeline ?? []
    case 'reset-counters':
      counters = freshCounters()
      return null
    case 'memory':
      return await memoryAtRest()
    case 'disconnect':
      await provider!.disconnect()
      return null
    case 'connect':
      await provider!.connect()
      return null
    case 'heap-snapshot':
      await memoryAtRest()
      return { path: writeHeapSnapshot(command.path) }
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
