/**
 * An in-memory stand-in for a Trystero strategy: rooms with Trystero 0.25's interface
 * (`makeAction`, `onPeerJoin`/`onPeerLeave` properties, `getPeers`, `leave`, `ping`), connected
 * through a simulated network with a virtual clock and seeded faults — latency, loss, duplication,
 * reordering and partitions. Runs are deterministic for a given seed and sequence of calls.
 *
 * It is for fast tests of protocol logic and for teaching scenarios. It proves nothing about
 * WebRTC: trystero-yjs's own test suite also runs every behaviour over real data channels.
 */
import * as prng from 'lib0/prng'
import { TrysteroYjsError } from '../errors.js'
import type { JoinRoom, PeerTarget, TrysteroAction, TrysteroConfig, TrysteroRoom } from '../room-types.js'

/** Latency as a function of the link and the send time (virtual ms). */
export type LatencyFunction = (link: { from: string, to: string, time: number }) => number

/** The faults of the simulated network; `setFaults` changes them during a run. */
export interface MemoryNetworkFaults {
  /**
   * Virtual milliseconds from send to delivery: a number; `[min, max]`, drawn per message from
   * the seeded generator; or a function of link and send time (two messages sent on one link in
   * one tick then take the same time, however many other messages were sent). Default 1.
   */
  latency?: number | readonly [number, number] | LatencyFunction
  /** Probability that a message is lost. Default 0. */
  loss?: number
  /** Probability that a message is delivered twice. Default 0. */
  duplicate?: number
  /** Let a message overtake earlier ones on the same link (Trystero's channels are ordered). Default false. */
  reorder?: boolean
}

/** `new MemoryNetwork(options)`: its first faults and the seed that makes a run reproducible. */
export interface MemoryNetworkOptions extends MemoryNetworkFaults {
  /** Seed of the fault generator. Default 1. */
  seed?: number
}

/** Counts of what crossed the network, payload bytes only (Trystero adds 103 bytes per message). */
export interface MemoryNetworkStats {
  /** Messages sent (each receiver counts once), lost ones included. */
  messages: number
  /** Their payload bytes. */
  bytes: number
  /** Messages lost to `loss`. */
  dropped: number
  /** Messages delivered twice (`duplicate`). */
  duplicated: number
  /** The same counts per Trystero action name. */
  byAction: Record<string, { messages: number, bytes: number }>
}

/** One simulated Trystero module instance: its `selfId` and its strategy's `joinRoom`. */
export interface MemoryPeer {
  /** This peer's id, as other peers see it. */
  readonly selfId: string
  /** Joins a room on the network as this peer: pass it as the provider's `joinRoom`. */
  readonly joinRoom: JoinRoom<TrysteroConfig>
}

/** A message handed to its receiver (after loss and partitions: what actually arrived). */
export interface MemoryDelivery {
  /** Sender's peer id. */
  from: string
  /** Receiver's peer id. */
  to: string
  /** The Trystero action name. */
  action: string
  /** What the receiver got (a copy of what was sent). */
  payload: unknown
  /** Virtual time of arrival. */
  time: number
}

interface ScheduledEvent {
  time: number
  seq: number
  run: () => void
}

const maxActionNameBytes = 32

/** A macrotask, so that microtasks settle between events. Browsers clamp nested `setTimeout(0)`
 * to 4 ms, which a posted message is not. */
const yieldToEventLoop: () => Promise<void> = typeof setImmediate === 'function'
  ? () => new Promise((resolve) => setImmediate(resolve))
  : typeof MessageChannel === 'function'
    ? () => new Promise((resolve) => {
      const channel = new MessageChannel()
      channel.port1.onmessage = () => {
        channel.port1.close()
        resolve()
      }
      channel.port2.postMessage(null)
    })
    : () => new Promise((resolve) => setTimeout(resolve, 0))

/**
 * The simulated network: create peers on it (`createPeer()`), give their `joinRoom` to providers,
 * then drive it — partitions, cut links, faults — and `settle()` until nothing is in flight.
 */
export class MemoryNetwork {
  private faults: Required<MemoryNetworkFaults>
  private readonly random: prng.PRNG
  private readonly queue: ScheduledEvent[] = []
  private seq = 0
  private virtualNow = 0
  private pumping = false
  private idleWaiters: Array<() => void> = []
  private peerCount = 0
  /** Joined rooms by `appId \0 roomId`. */
  private readonly rooms = new Map<string, Set<MemoryRoom>>()
  /** Partition group of each peer id; peers not listed share group 0. */
  private groups = new Map<string, number>()
  /** Links cut one by one (`cutLink`), as unordered pairs `a \0 b` with a < b. */
  private readonly cutLinks = new Set<string>()
  /** Last scheduled delivery per directed link, to keep links FIFO. */
  private readonly linkClock = new Map<string, number>()
  /** Paused peers, with the deliveries held for them and from them. */
  private readonly paused = new Map<string, Array<() => void>>()
  private readonly crashed = new Set<string>()

  /** What crossed the network so far. */
  readonly stats: MemoryNetworkStats = { messages: 0, bytes: 0, dropped: 0, duplicated: 0, byAction: {} }
  /** Exceptions thrown by `onMessage` handlers (Trystero logs and swallows them). */
  readonly handlerErrors: unknown[] = []
  private readonly deliveryListeners = new Set<(delivery: MemoryDelivery) => void>()

  constructor (options: MemoryNetworkOptions = {}) {
    this.random = prng.create(options.seed ?? 1)
    this.faults = { latency: 1, loss: 0, duplicate: 0, reorder: false }
    this.setFaults(options)
  }

  /** Virtual time in milliseconds. */
  get now (): number {
    return this.virtualNow
  }

  /** Changes some faults from now on; the others stay. */
  setFaults (faults: MemoryNetworkFaults): void {
    const { latency, loss, duplicate, reorder } = { ...this.faults, ...faults }
    this.faults = { latency, loss, duplicate, reorder }
  }

  /** A new simulated peer (a fresh Trystero module instance, with its own `selfId`). */
  createPeer (selfId = `peer-${++this.peerCount}`): MemoryPeer {
    const joined = new Map<string, MemoryRoom>()
    const joinRoom: JoinRoom<TrysteroConfig> = (config, roomId) => {
      if (!config?.appId) throw new TrysteroYjsError('memory network: config.appId is required')
      if (!roomId) throw new TrysteroYjsError('memory network: roomId is required')
      const key = `${config.appId}\u0000${roomId}`
      const existing = joined.get(key)
      if (existing) return existing
      const room = new MemoryRoom(this, selfId, key, () => joined.delete(key))
      joined.set(key, room)
      this.enter(room)
      return room
    }
    return { selfId, joinRoom }
  }

  /** Splits peers into groups that cannot reach each other; unlisted peers form one more group. */
  partition (...groups: string[][]): void {
    this.groups = new Map()
    groups.forEach((members, i) => members.forEach((id) => this.groups.set(id, i + 1)))
    this.reconcileLinks()
  }

  /** Ends every partition. */
  heal (): void {
    this.groups = new Map()
    this.reconcileLinks()
  }

  /** Runs `callback` when virtual time reaches `time` (at once, in order, if it has passed). */
  at (time: number, callback: () => void): void {
    this.schedule(Math.max(0, time - this.virtualNow), callback)
  }

  /** Calls `listener` for every delivered message; returns a function that stops it. */
  observeDeliveries (listener: (delivery: MemoryDelivery) => void): () => void {
    this.deliveryListeners.add(listener)
    return () => this.deliveryListeners.delete(listener)
  }

  /**
   * Pauses a peer, like SIGSTOP or a suspended tab: its connections stay up, nothing reaches it
   * and nothing leaves it until `resume(peerId)`, and then everything held is delivered in order.
   */
  pause (peerId: string): void {
    this.paused.set(peerId, this.paused.get(peerId) ?? [])
  }

  /** Ends `pause(peerId)`: what was held for it and from it is delivered, in order. */
  resume (peerId: string): void {
    const held = this.paused.get(peerId)
    this.paused.delete(peerId)
    for (const deliver of held ?? []) this.schedule(0, deliver)
  }

  /**
   * Kills a peer without a word, like a crashed tab or SIGKILL: its connections stay up for the
   * others (nobody is told it left) and nothing it would send or receive arrives, ever.
   */
  crash (peerId: string): void {
    this.crashed.add(peerId)
  }

  /** Cuts the link between two peers only (a partition cuts whole groups). */
  cutLink (a: string, b: string): void {
    this.cutLinks.add(pairKey(a, b))
    this.reconcileLinks()
  }

  /** Restores a link cut by `cutLink`. */
  restoreLink (a: string, b: string): void {
    this.cutLinks.delete(pairKey(a, b))
    this.reconcileLinks()
  }

  /** Resolves once no message or connection event is left to deliver. */
  async settle (): Promise<void> {
    await yieldToEventLoop()
    if (this.queue.length === 0 && !this.pumping) return
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  // --- used by MemoryRoom ---

  /** @internal */
  schedule (delay: number, run: () => void): void {
    this.queue.push({ time: this.virtualNow + delay, seq: this.seq++, run })
    this.queue.sort((a, b) => a.time - b.time || a.seq - b.seq)
    if (!this.pumping) {
      this.pumping = true
      void this.pump()
    }
  }

  /** @internal */
  sampleLatency (from = '', to = ''): number {
    const { latency } = this.faults
    if (typeof latency === 'number') return latency
    if (typeof latency === 'function') return latency({ from, to, time: this.virtualNow })
    return latency[0] + prng.real53(this.random) * (latency[1] - latency[0])
  }

  /** @internal */
  transmit (from: MemoryRoom, to: MemoryRoom, action: string, payload: unknown, byteLength: number): Promise<void> {
    this.stats.messages++
    this.stats.bytes += byteLength
    const counts = this.stats.byAction[action] ??= { messages: 0, bytes: 0 }
    counts.messages++
    counts.bytes += byteLength
    if (this.faults.loss > 0 && prng.real53(this.random) < this.faults.loss) {
      this.stats.dropped++
      return Promise.resolve()
    }
    let delivered!: () => void
    const done = new Promise<void>((resolve) => { delivered = resolve })
    const copies = this.faults.duplicate > 0 && prng.real53(this.random) < this.faults.duplicate ? 2 : 1
    if (copies === 2) this.stats.duplicated++
    for (let i = 0; i < copies; i++) {
      const link = `${from.selfId}\u0000${to.selfId}`
      let time = this.virtualNow + this.sampleLatency(from.selfId, to.selfId)
      if (!this.faults.reorder) time = Math.max(time, this.linkClock.get(link) ?? 0)
      this.linkClock.set(link, time)
      const deliver = (): void => {
        // The link this message was sent on, not a newer one between the same peer ids.
        if (!from.isConnectedTo(to) || !to.isConnectedTo(from) || this.crashed.has(from.selfId) || this.crashed.has(to.selfId)) {
          delivered()
          return
        }
        const held = this.paused.get(to.selfId) ?? this.paused.get(from.selfId)
        if (held !== undefined) {
          held.push(deliver)
          return
        }
        const copy = clonePayload(payload)
        for (const listener of this.deliveryListeners) listener({ from: from.selfId, to: to.selfId, action, payload: copy, time: this.virtualNow })
        to.deliver(from.selfId, action, copy)
        delivered()
      }
      this.schedule(time - this.virtualNow, deliver)
    }
    return done
  }

  /** @internal */
  reachable (a: string, b: string): boolean {
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0) && !this.cutLinks.has(pairKey(a, b))
  }

  /** @internal */
  leave (room: MemoryRoom): void {
    this.rooms.get(room.key)?.delete(room)
    for (const peerId of room.connectedPeerIds()) {
      const other = this.roomOf(room.key, peerId)
      room.dropPeer(peerId, false)
      // Only the link to this room: by then the peer may have joined again, on a new link.
      if (other) this.schedule(this.sampleLatency(room.selfId, peerId), () => other.dropPeer(room.selfId, true, room))
    }
  }

  /** @internal A connection closed by one end: both ends see it go. */
  disconnect (room: MemoryRoom, peerId: string): void {
    const other = this.roomOf(room.key, peerId)
    room.dropPeer(peerId, true)
    other?.dropPeer(room.selfId, true, room)
  }

  private enter (room: MemoryRoom): void {
    const members = this.rooms.get(room.key) ?? new Set<MemoryRoom>()
    this.rooms.set(room.key, members)
    members.add(room)
    for (const other of members) if (other !== room) this.scheduleConnect(room, other)
  }

  private scheduleConnect (a: MemoryRoom, b: MemoryRoom): void {
    if (!this.reachable(a.selfId, b.selfId)) return
    this.schedule(this.sampleLatency(a.selfId, b.selfId), () => {
      if (!a.isJoined() || !b.isJoined() || !this.reachable(a.selfId, b.selfId) || a.isConnectedTo(b.selfId)) return
      a.addPeer(b)
      b.addPeer(a)
    })
  }

  private reconcileLinks (): void {
    for (const members of this.rooms.values()) {
      const list = [...members]
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i]!
          const b = list[j]!
          if (!this.reachable(a.selfId, b.selfId)) {
            // A cut link is noticed at both ends, like a data channel closing.
            if (a.isConnectedTo(b.selfId)) {
              a.dropPeer(b.selfId, true)
              b.dropPeer(a.selfId, true)
            }
          } else if (!a.isConnectedTo(b.selfId)) {
            this.scheduleConnect(a, b)
          }
        }
      }
    }
  }

  /** @internal */
  roomOf (key: string, selfId: string): MemoryRoom | undefined {
    for (const room of this.rooms.get(key) ?? []) if (room.selfId === selfId) return room
    return undefined
  }

  private async pump (): Promise<void> {
    // One event per macrotask: whatever a delivery triggers (microtasks) settles before the next.
    for (;;) {
      await yieldToEventLoop()
      const event = this.queue.shift()
      if (event === undefined) break
      this.virtualNow = Math.max(this.virtualNow, event.time)
      event.run()
    }
    this.pumping = false
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}

let certificates = 0

class MemoryRoom implements TrysteroRoom {
  /** This room instance's "DTLS certificate" fingerprint, as hex pairs. */
  readonly certificate = (++certificates).toString(16).padStart(64, '0').match(/../g)!.join(':').toUpperCase()
  /** Connected peers, with the room instance at the far end of each link. */
  private readonly links = new Map<string, MemoryRoom>()
  private get peers (): Set<string> {
    return new Set(this.links.keys())
  }
  private readonly actions = new Map<string, MemoryAction>()
  private joined = true
  private joinHandler: ((peerId: string) => void) | null = null
  private leaveHandler: ((peerId: string) => void) | null = null

  constructor (
    private readonly network: MemoryNetwork,
    readonly selfId: string,
    readonly key: string,
    private readonly forget: () => void
  ) {}

  get onPeerJoin (): ((peerId: string) => void) | null {
    return this.joinHandler
  }

  /** Like Trystero: assigning a handler replays the peers already connected. */
  set onPeerJoin (handler: ((peerId: string) => void) | null) {
    this.joinHandler = handler
    if (handler) for (const peerId of this.peers) handler(peerId)
  }

  get onPeerLeave (): ((peerId: string) => void) | null {
    return this.leaveHandler
  }

  set onPeerLeave (handler: ((peerId: string) => void) | null) {
    this.leaveHandler = handler
  }

  makeAction (name: string): TrysteroAction {
    const bytes = new TextEncoder().encode(name).byteLength
    if (bytes > maxActionNameBytes) {
      throw new TrysteroYjsError(`action name "${name}" is ${bytes} bytes; Trystero allows ${maxActionNameBytes}`)
    }
    let action = this.actions.get(name)
    if (!action) {
      action = new MemoryAction(name, this)
      this.actions.set(name, action)
    }
    return action
  }

  /** Like Trystero's: the connection of each peer, with what it says of the DTLS certificates. */
  getPeers (): Record<string, unknown> {
    return Object.fromEntries([...this.peers].map((peerId) => [peerId, this.connectionTo(peerId)]))
  }

  async leave (): Promise<void> {
    if (!this.joined) return
    this.joined = false
    this.forget()
    this.network.leave(this)
  }

  async ping (peerId: string): Promise<number> {
    if (!this.peers.has(peerId)) throw new TrysteroYjsError(`no connected peer ${peerId}`, { peerId })
    const rtt = this.network.sampleLatency(this.selfId, peerId) + this.network.sampleLatency(peerId, this.selfId)
    await new Promise<void>((resolve) => this.network.schedule(rtt, resolve))
    return rtt
  }

  /**
   * A stand-in RTCPeerConnection: session descriptions carrying each end's certificate
   * fingerprint (per joined room, as a browser makes a certificate per connection), and
   * `close()`, which drops the link at both ends like a closed data channel.
   */
  private connectionTo (peerId: string): object {
    const other = this.links.get(peerId)
    return {
      localDescription: { type: 'offer', sdp: `a=fingerprint:sha-256 ${this.certificate}\r\n` },
      remoteDescription: { type: 'answer', sdp: `a=fingerprint:sha-256 ${other?.certificate ?? '00'}\r\n` },
      close: () => this.network.disconnect(this, peerId)
    }
  }

  // --- used by the network ---

  isJoined (): boolean {
    return this.joined
  }

  /** Connected to that peer id, or to that very room instance. */
  isConnectedTo (peer: string | MemoryRoom): boolean {
    if (!this.joined) return false
    return typeof peer === 'string' ? this.links.has(peer) : this.links.get(peer.selfId) === peer
  }

  connectedPeerIds (): string[] {
    return [...this.peers]
  }

  addPeer (room: MemoryRoom): void {
    const peerId = room.selfId
    this.links.set(peerId, room)
    this.joinHandler?.(peerId)
  }

  /** Drops the link to `peerId` (only if it leads to `only`, when given). */
  dropPeer (peerId: string, notify: boolean, only?: MemoryRoom): void {
    if (only !== undefined && this.links.get(peerId) !== only) return
    if (!this.links.delete(peerId)) return
    if (notify && this.joined) this.leaveHandler?.(peerId)
  }

  deliver (from: string, name: string, payload: unknown): void {
    if (!this.joined) return
    ;(this.actions.get(name) ?? this.makeAction(name) as MemoryAction).receive(payload, from)
  }

  async send (name: string, data: unknown, target: PeerTarget | undefined): Promise<void> {
    if (!this.joined) return
    const targets = target == null ? [...this.peers] : Array.isArray(target) ? target : [target]
    const byteLength = data instanceof Uint8Array ? data.byteLength : new TextEncoder().encode(JSON.stringify(data)).byteLength
    const sent: Array<Promise<void>> = []
    for (const peerId of targets) {
      const other = this.links.get(peerId)
      if (other !== undefined) sent.push(this.network.transmit(this, other, name, data, byteLength))
    }
    await Promise.all(sent)
  }

  reportHandlerError (error: unknown): void {
    this.network.handlerErrors.push(error)
  }
}

class MemoryAction implements TrysteroAction {
  private handler: ((data: Uint8Array, context: { peerId: string }) => void | Promise<void>) | null = null
  /** Like Trystero, messages that arrive before a handler is set wait for it. */
  private buffered: Array<{ payload: unknown, peerId: string }> = []

  constructor (readonly name: string, private readonly room: MemoryRoom) {}

  get onMessage (): ((data: Uint8Array, context: { peerId: string }) => void | Promise<void>) | null {
    return this.handler
  }

  set onMessage (handler: ((data: Uint8Array, context: { peerId: string }) => void | Promise<void>) | null) {
    this.handler = handler
    if (handler) for (const { payload, peerId } of this.buffered.splice(0)) this.dispatch(payload, peerId)
  }

  /**
   * Resolves once the message is delivered (or lost): a stand-in for Trystero's send, which
   * resolves once the data channel took every chunk — late on a congested channel.
   */
  async send (data: Uint8Array, options?: { target?: PeerTarget }): Promise<void> {
    if (data === undefined) throw new TrysteroYjsError('action data cannot be undefined')
    await this.room.send(this.name, data, options?.target)
  }

  receive (payload: unknown, peerId: string): void {
    if (this.handler === null) this.buffered.push({ payload, peerId })
    else this.dispatch(payload, peerId)
  }

  private dispatch (payload: unknown, peerId: string): void {
    const handler = this.handler
    if (handler === null) return
    // Trystero runs handlers in a microtask and swallows what they throw.
    Promise.resolve()
      .then(() => handler(payload as Uint8Array, { peerId }))
      .catch((error: unknown) => this.room.reportHandlerError(error))
  }
}

const pairKey = (a: string, b: string): string => a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`

const clonePayload = (payload: unknown): unknown =>
  payload instanceof Uint8Array ? payload.slice() : structuredClone(payload)
