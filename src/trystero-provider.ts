/**
 * TrysteroProvider: a Yjs provider that syncs a document and its awareness between browsers (and
 * Node) over Trystero, with whatever Trystero strategy the app picks. The wire format is
 * PROTOCOL.md; this file maps it onto Yjs, y-protocols' Awareness and the provider conventions
 * that editor bindings expect (y-websocket / y-webrtc events and properties).
 */
import * as Y from 'yjs'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import { docChannelKey } from './channel-key.js'
import { TrysteroYjsError } from './errors.js'
import { decodeAwarenessEntries, encodeAwarenessEntries } from './protocol/awareness-entries.js'
import { decodeFrame, encodeFrame, type DocMessage } from './protocol/doc-messages.js'
import { ReportingObservable } from './reporting-observable.js'
import { SignalingMonitor, defaultStrategyRelaySockets, type GetRelaySockets, type SignalingStatus } from './signaling-status.js'
import { RoomHub, type ChannelHandle, type ChannelMember } from './room-hub.js'
import { acquireRoom, type RoomLease } from './room-lease.js'
import type { JoinRoom, JoinRoomCallbacks, TrysteroConfig, TrysteroRoom } from './room-types.js'
import { noTraffic, type Traffic } from './traffic.js'
import { UpdateCoalescer } from './update-coalescer.js'

export type ProviderStatus = 'connecting' | 'connected' | 'disconnected'

/** Events, with lib0's `ObservableV2`: `provider.on('synced', (synced) => …)`. */
export interface TrysteroProviderEvents {
  /** y-websocket's `{status}`, plus y-webrtc's `{connected}`. */
  status: (event: { status: ProviderStatus, connected: boolean }) => void
  /** Synced state changed (PROTOCOL.md §3.4). Same as `synced`; y-websocket emits both. */
  sync: (synced: boolean) => void
  /** Synced state changed (PROTOCOL.md §3.4): `true` once every peer with the document answered. */
  synced: (synced: boolean) => void
  /** Peers that have this document open. `webrtcPeers`/`bcPeers` are y-webrtc's names. */
  peers: (event: { added: string[], removed: string[], peers: string[], webrtcPeers: string[], bcPeers: string[] }) => void
  /** Something that cost data or a sync: a message that could not be applied, a failed join or send. */
  error: (error: TrysteroYjsError) => void
  /** Something ignored safely: an unknown message, a peer without our protocol. */
  warning: (warning: TrysteroYjsError) => void
  /** The state of signaling changed: a relay connected, failed or came back (see `signaling`). */
  signaling: (status: SignalingStatus) => void
}

/** The provider's own options; every other option is passed to the strategy's `joinRoom`. */
export interface ProviderOwnOptions<Config extends { appId: string } = TrysteroConfig> {
  /**
   * The Trystero strategy's `joinRoom`, e.g. `import {joinRoom} from '@trystero-p2p/mqtt'`.
   * Default: the `trystero` package (Nostr), loaded on first connect.
   */
  joinRoom?: JoinRoom<Config>
  /** Trystero's third `joinRoom` argument (`onJoinError`, `onPeerHandshake`, `handshakeTimeoutMs`). */
  joinCallbacks?: JoinRoomCallbacks
  /**
   * The strategy module's `getRelaySockets`, next to its `joinRoom`, for `provider.signaling`.
   * Default: the `trystero` package's, when `joinRoom` is not given either.
   */
  getRelaySockets?: GetRelaySockets
  /**
   * Names the document within the room, so several documents can share a room (PROTOCOL.md §3.1).
   * Default: the document's guid for a subdocument, else `""` (the room's main document).
   */
  docName?: string
  /** An existing Awareness for this document. Default: a new one, destroyed with the provider. */
  awareness?: Awareness
  /** Connect in the constructor. Default `true`. */
  connect?: boolean
  /** Every this many ms, send step 1 to every peer to heal anything lost. Default `0` (off). */
  resyncInterval?: number
  /** Frames larger than this are dropped and reported. Default 128 MiB. */
  maxMessageBytes?: number
  /** How long a new peer may take to say which documents it has open. Default 5,000 ms. */
  peerHelloTimeout?: number
}

/** Provider options: its own plus the strategy's config (`appId`, `password`, `relayConfig`, …). */
export type TrysteroProviderOptions<Config extends { appId: string } = TrysteroConfig> =
  ProviderOwnOptions<Config> & Partial<Config>

/** Used when the app gives no `appId`. Rooms are namespaced by app id: set your own. */
export const defaultAppId = 'trystero-yjs'

const defaultMaxMessageBytes = 128 * 1024 * 1024
const defaultPeerHelloTimeout = 5000

interface RemotePeer {
  /** A step 2 from this peer was applied since we sent it our step 1. */
  answered: boolean
}

const loadDefaultJoinRoom = async (): Promise<JoinRoom<any>> => {
  try {
    const trystero: { joinRoom: JoinRoom<any> } = await import('trystero')
    return trystero.joinRoom
  } catch (error) {
    throw new TrysteroYjsError(
      'no Trystero strategy: pass options.joinRoom (e.g. from @trystero-p2p/mqtt) or install "trystero" for Nostr', { cause: error })
  }
}

/**
 * A Yjs provider over Trystero. Drop-in for `WebrtcProvider` from y-webrtc:
 *
 * ```ts
 * const provider = new TrysteroProvider(doc, 'my-room', { appId: 'my-app', joinRoom })
 * new CodemirrorBinding(ytext, view, provider.awareness)
 * ```
 *
 * `roomOrId` is a room id (the provider joins it, and leaves it when disconnected) or a room the
 * app already joined (the provider never leaves it; the app's `onPeerJoin`/`onPeerLeave` keep
 * working). See PROTOCOL.md for what goes over the wire and when `synced` is true.
 */
export class TrysteroProvider<Config extends { appId: string } = TrysteroConfig> extends ReportingObservable<TrysteroProviderEvents> {
  /** The document this provider syncs. */
  readonly doc: Y.Doc
  /** Everyone's presence (cursor, name) for this document: give it to your editor binding. */
  readonly awareness: Awareness
  /** The document's name within the room (PROTOCOL.md §3.1). */
  readonly docName: string
  /** The room id given to the constructor; `null` when a room object was given. */
  readonly roomId: string | null

  private readonly fixedRoom: TrysteroRoom | null
  private readonly channelKey: string
  private readonly ownsAwareness: boolean
  // `Config` types the constructor's options only: kept out of members, so that a provider of any
  // strategy is assignable to a plain `TrysteroProvider`.
  private readonly joinOptions: ProviderOwnOptions<any>
  private readonly strategyConfig: TrysteroConfig
  private readonly maxMessageBytes: number

  private _status: ProviderStatus = 'disconnected'
  private _synced = false
  private destroyed = false
  /** Bumped by every connect/disconnect, so that a join that finishes late knows it is stale. */
  private generation = 0
  private connecting: Promise<void> | null = null
  /** The app left the room it gave us: it cannot be used again. */
  private fixedRoomLeft = false
  private lease: RoomLease | null = null
  private channel: ChannelHandle | null = null
  private readonly remotePeers = new Map<string, RemotePeer>()
  /** Per peer, kept after it leaves: the totals must not shrink. */
  private readonly trafficByPeer = new Map<string, Traffic>()
  /** Awareness client ids each peer announced, to remove them when it goes. */
  private readonly awarenessClientsByPeer = new Map<string, Set<number>>()
  /** Which peer speaks for a client id: the first to announce it, until it goes. */
  private readonly awarenessOwners = new Map<number, string>()
  private listeningToDoc = false
  private readonly pendingUpdates: UpdateCoalescer
  private flushQueued = false
  private savedLocalState: Record<string, unknown> | null = null
  private resyncTimer: ReturnType<typeof setInterval> | null = null
  private syncedWaiters: Array<{ resolve: () => void, reject: (error: Error) => void }> = []
  private readonly signalingMonitor: SignalingMonitor

  constructor (doc: Y.Doc, roomOrId: string | TrysteroRoom, options: TrysteroProviderOptions<Config> = {}) {
    super()
    const {
      joinRoom, joinCallbacks, getRelaySockets, docName, awareness, connect = true, resyncInterval = 0,
      maxMessageBytes = defaultMaxMessageBytes, peerHelloTimeout = defaultPeerHelloTimeout, ...strategyConfig
    } = options
    if (typeof roomOrId === 'string' ? roomOrId.length === 0 : typeof roomOrId?.makeAction !== 'function') {
      throw new TrysteroYjsError('the second argument must be a non-empty room id or a Trystero room')
    }
    this.doc = doc
    this.pendingUpdates = new UpdateCoalescer(doc)
    this.roomId = typeof roomOrId === 'string' ? roomOrId : null
    this.fixedRoom = typeof roomOrId === 'string' ? null : roomOrId
    this.docName = docName ?? (doc._item !== null ? doc.guid : '')
    this.channelKey = docChannelKey(this.docName)
    this.ownsAwareness = awareness === undefined
    this.awareness = awareness ?? new Awareness(doc)
    this.maxMessageBytes = maxMessageBytes
    this.joinOptions = { joinRoom, joinCallbacks, peerHelloTimeout }
    this.strategyConfig = { appId: defaultAppId, ...strategyConfig } as TrysteroConfig
    this.signalingMonitor = new SignalingMonitor({
      getRelaySockets: getRelaySockets ?? (joinRoom === undefined && this.fixedRoom === null ? defaultStrategyRelaySockets() : undefined),
      urls: this.strategyConfig.relayConfig?.urls,
      onChange: (status) => this.emit('signaling', [status]),
      onUnreachable: (error) => this.reportError(error)
    })

    doc.on('destroy', this.onDocDestroy)
    this.awareness.on('update', this.onAwarenessUpdate)
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      window.addEventListener('pagehide', this.onPageHide)
      window.addEventListener('pageshow', this.onPageShow)
    }
    if (resyncInterval > 0) this.resyncTimer = setInterval(() => this.resync(), resyncInterval)
    if (connect) void this.connect()
  }

  /** `connecting` while joining, `connected` once in the room, `disconnected` otherwise. */
  get status (): ProviderStatus {
    return this._status
  }

  /** y-webrtc's and y-websocket's boolean. */
  get connected (): boolean {
    return this._status === 'connected'
  }

  /** PROTOCOL.md §3.4: in a room, no peer pending, every peer with the document answered. */
  get synced (): boolean {
    return this._synced
  }

  /** Trystero peer ids of the peers that have this document open. */
  get peers (): string[] {
    return [...this.remotePeers.keys()]
  }

  /**
   * Which signaling relays this peer reaches, watched while connecting or connected: with none
   * reachable, no new peer can find us. Each change is a `signaling` event; every relay failing
   * is also an `error`.
   */
  get signaling (): SignalingStatus {
    return this.signalingMonitor.status
  }

  /** The Trystero room while connected (use it for your own actions, `ping`, …), else `null`. */
  get room (): TrysteroRoom | null {
    return this.channel?.room ?? null
  }

  /** This document's payload bytes and messages, both ways, since the provider was created. */
  get traffic (): Traffic {
    const total = noTraffic()
    for (const t of this.trafficByPeer.values()) {
      total.messagesSent += t.messagesSent
      total.bytesSent += t.bytesSent
      total.messagesReceived += t.messagesReceived
      total.bytesReceived += t.bytesReceived
    }
    return total
  }

  /** This document's traffic with one peer. */
  trafficWith (peerId: string): Traffic {
    return { ...(this.trafficByPeer.get(peerId) ?? noTraffic()) }
  }

  /** The awareness client ids a peer speaks for: which user (cursor, name) is that peer. */
  peerAwareness (peerId: string): number[] {
    return [...(this.awarenessClientsByPeer.get(peerId) ?? [])]
  }

  /** Resolves the next time the provider is synced (at once if it is). Rejects if it is destroyed first. */
  whenSynced (): Promise<void> {
    if (this._synced) return Promise.resolve()
    if (this.destroyed) return Promise.reject(new TrysteroYjsError('provider destroyed before it synced', { docName: this.docName }))
    return new Promise((resolve, reject) => this.syncedWaiters.push({ resolve, reject }))
  }

  /**
   * Joins the room (or attaches to the given one) and starts syncing. Resolves when connected,
   * or when the attempt ended; failures are `error` events, never a rejection.
   */
  connect (): Promise<void> {
    if (this.destroyed || this._status === 'connected') return Promise.resolve()
    if (this.connecting !== null) return this.connecting
    const generation = ++this.generation
    this.setStatus('connecting')
    const connecting = this.join(generation).finally(() => {
      if (this.connecting === connecting) this.connecting = null
    })
    this.connecting = connecting
    return connecting
  }

  private async join (generation: number): Promise<void> {
    // Even with the room in hand, report `connected` after the constructor has returned, so
    // that listeners attached right after `new` hear it.
    await Promise.resolve()
    let lease: RoomLease | null = null
    let channel: ChannelHandle
    try {
      if (this.fixedRoomLeft) throw new TrysteroYjsError('the room given to this provider was left by the app; create a provider for a new room')
      let room = this.fixedRoom
      if (room === null) {
        const joinRoom = this.joinOptions.joinRoom ?? await loadDefaultJoinRoom()
        lease = await acquireRoom(joinRoom, this.strategyConfig, this.roomId!, this.joinOptions.joinCallbacks)
        room = lease.room
      }
      if (generation !== this.generation) {
        await lease?.release()
        return
      }
      const hub = RoomHub.for(room, { peerHelloTimeout: this.joinOptions.peerHelloTimeout ?? defaultPeerHelloTimeout })
      channel = hub.attach(this.channelKey, this.member)
      this.channel = channel
      this.lease = lease
    } catch (error) {
      await lease?.release()
      if (generation !== this.generation) return
      this.reportError(error instanceof TrysteroYjsError ? error : new TrysteroYjsError('could not join the room', { docName: this.docName, cause: error }))
      this.setStatus('disconnected')
      return
    }
    this.restoreLocalAwareness()
    this.setStatus('connected')
    // Listeners of the events above are app code: they may have disconnected us already.
    if (this.channel !== channel) return
    for (const peerId of channel.openPeers()) this.member.peerOpened(peerId)
    this.updateSynced()
  }

  /**
   * Stops syncing: tells peers our awareness state is gone, forgets theirs, closes the document
   * on the room, and leaves the room if the provider joined it and nobody else here uses it.
   * Local edits continue and are merged on `connect()`. Resolves once the room is left.
   */
  async disconnect (): Promise<void> {
    this.generation++
    // A join under way is now stale (it leaves what it joined); the next connect() starts anew.
    const staleJoin = this.connecting
    this.connecting = null
    if (this._status === 'disconnected') return await staleJoin ?? undefined
    const channel = this.channel
    const lease = this.lease
    this.lease = null
    if (channel !== null) {
      // Edits of this tick still go out; then our cursor disappears at the others at once
      // (onAwarenessUpdate sends the removal while the channel is still open).
      this.flushUpdates(channel)
      const localState = this.awareness.getLocalState()
      if (localState !== null) {
        this.savedLocalState = localState
        removeAwarenessStates(this.awareness, [this.awareness.clientID], 'disconnect')
      }
      this.channel = null
      this.forgetAllPeers()
      channel.detach()
    }
    this.setStatus('disconnected')
    this.updateSynced()
    await Promise.all([lease?.release(), staleJoin])
  }

  /** Sends step 1 to every peer with the document open; their step 2 fills any gap. */
  resync (): void {
    const channel = this.channel
    if (channel === null || this.remotePeers.size === 0) return
    this.sendFrame(channel, [{ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) }], [...this.remotePeers.keys()])
  }

  /** Disconnects and releases everything. Also runs when the document is destroyed. */
  override async destroy (): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    if (this.resyncTimer !== null) clearInterval(this.resyncTimer)
    this.doc.off('destroy', this.onDocDestroy)
    if (typeof window !== 'undefined' && typeof window.removeEventListener === 'function') {
      window.removeEventListener('pagehide', this.onPageHide)
      window.removeEventListener('pageshow', this.onPageShow)
    }
    const left = this.disconnect()
    this.setDocSubscription(false)
    this.awareness.off('update', this.onAwarenessUpdate)
    if (this.ownsAwareness) this.awareness.destroy()
    for (const waiter of this.syncedWaiters.splice(0)) {
      waiter.reject(new TrysteroYjsError('provider destroyed before it synced', { docName: this.docName }))
    }
    super.destroy()
    await left
  }

  // --- hub callbacks ---

  private readonly member: ChannelMember = {
    peerOpened: (peerId) => {
      const channel = this.channel
      if (channel === null || this.remotePeers.has(peerId)) return
      this.remotePeers.set(peerId, { answered: false })
      this.setDocSubscription(true)
      const messages: DocMessage[] = [{ type: 'sync-step1', stateVector: Y.encodeStateVector(this.doc) }]
      if (this.awareness.getLocalState() !== null) {
        messages.push({ type: 'awareness', update: encodeAwarenessUpdate(this.awareness, [this.awareness.clientID]) })
      }
      this.sendFrame(channel, messages, [peerId])
      this.emitPeers([peerId], [])
      this.updateSynced()
    },
    peerClosed: (peerId) => {
      this.forgetAwarenessOf(peerId)
      if (!this.remotePeers.delete(peerId)) return
      if (this.remotePeers.size === 0) this.setDocSubscription(false)
      this.emitPeers([], [peerId])
      this.updateSynced()
    },
    pendingChanged: () => this.updateSynced(),
    message: (data, peerId) => this.receiveFrame(data, peerId),
    roomLeft: () => {
      // The room was left under us (by the app, through room.leave()): nothing can be sent.
      this.generation++
      if (this.fixedRoom !== null) this.fixedRoomLeft = true
      this.channel = null
      const lease = this.lease
      this.lease = null
      void lease?.release()
      this.forgetAllPeers()
      this.setStatus('disconnected')
      this.updateSynced()
    },
    report: (kind, error) => kind === 'error' ? this.reportError(error) : this.reportWarning(error)
  }

  // --- receiving ---

  private receiveFrame (data: unknown, peerId: string): void {
    const channel = this.channel
    if (channel === null) return
    if (!(data instanceof Uint8Array)) {
      this.reportError(new TrysteroYjsError('non-binary message ignored', { peerId, messageType: typeof data, docName: this.docName }))
      return
    }
    const byteLength = data.byteLength
    const traffic = this.trafficFor(peerId)
    traffic.messagesReceived++
    traffic.bytesReceived += byteLength
    if (byteLength > this.maxMessageBytes) {
      this.reportError(new TrysteroYjsError(`message over maxMessageBytes (${this.maxMessageBytes}) dropped`, {
        peerId, messageType: 'frame', byteLength, docName: this.docName
      }))
      return
    }
    const { messages, failure } = decodeFrame(data)
    for (const message of messages) {
      try {
        this.receiveMessage(channel, message, peerId, byteLength)
      } catch (error) {
        // Thrown by an observer of the document or awareness (app code), not by our decoding.
        this.reportError(new TrysteroYjsError('handling a message failed', { peerId, messageType: message.type, byteLength, docName: this.docName, cause: error }))
      }
    }
    if (failure !== null) {
      this.reportError(new TrysteroYjsError(`malformed message dropped: ${failure.cause}`, {
        peerId, messageType: failure.messageType, byteLength, docName: this.docName
      }))
    }
  }

  private receiveMessage (channel: ChannelHandle, message: DocMessage, peerId: string, byteLength: number): void {
    switch (message.type) {
      case 'sync-step1': {
        try {
          Y.decodeStateVector(message.stateVector)
        } catch (error) {
          this.reportError(new TrysteroYjsError('malformed state vector', { peerId, messageType: message.type, byteLength, docName: this.docName, cause: error }))
          return
        }
        // A step 1 Trystero held for us while we had no handler may come from a peer gone since.
        if (!(peerId in channel.room.getPeers())) return
        this.sendFrame(channel, [{ type: 'sync-step2', update: Y.encodeStateAsUpdate(this.doc, message.stateVector) }], [peerId])
        return
      }
      case 'sync-step2': {
        const peer = this.remotePeers.get(peerId)
        const applied = this.applyRemoteUpdate(message.update, peerId, message.type, byteLength)
        if (peer !== undefined) {
          peer.answered = applied
          this.updateSynced()
        }
        return
      }
      case 'sync-update':
        this.applyRemoteUpdate(message.update, peerId, message.type, byteLength)
        return
      case 'awareness':
        this.applyRemoteAwareness(message.update, peerId, byteLength)
    }
  }

  /**
   * Applies a peer's update whole or not at all (PROTOCOL.md §3.6). Returns whether it was
   * applied: an exception from a document observer (app code) comes after the update is in.
   */
  private applyRemoteUpdate (update: Uint8Array, peerId: string, messageType: string, byteLength: number): boolean {
    try {
      Y.decodeUpdate(update)
    } catch (error) {
      this.reportError(new TrysteroYjsError('malformed update rejected', { peerId, messageType, byteLength, docName: this.docName, cause: error }))
      return false
    }
    try {
      Y.applyUpdate(this.doc, update, this)
    } catch (error) {
      this.reportError(new TrysteroYjsError('a document observer threw while a peer update was applied', {
        peerId, messageType, byteLength, docName: this.docName, cause: error
      }))
    }
    return true
  }

  /**
   * A peer speaks only for itself: entries for our own client id, or for an id another peer
   * announced first, are dropped, so that nobody can rewrite or hide someone else's cursor.
   */
  private applyRemoteAwareness (update: Uint8Array, peerId: string, byteLength: number): void {
    let entries
    try {
      entries = decodeAwarenessEntries(update)
    } catch (error) {
      this.reportError(new TrysteroYjsError('malformed awareness update rejected', {
        peerId, messageType: 'awareness', byteLength, docName: this.docName, cause: error
      }))
      return
    }
    // Presence matters for peers that have the document open; a late message from one that
    // closed it must not bring its cursor back, with nobody left to remove it.
    if (!this.remotePeers.has(peerId)) return
    const clients = this.awarenessClientsByPeer.get(peerId) ?? new Set<number>()
    this.awarenessClientsByPeer.set(peerId, clients)
    const accepted = entries.filter(({ clientID }) => {
      const owner = clientID === this.awareness.clientID ? null : this.awarenessOwners.get(clientID) ?? peerId
      if (owner !== peerId) {
        this.reportWarning(new TrysteroYjsError(`awareness entry for client ${clientID} dropped: ${owner === null ? 'it is ours' : `peer ${owner} speaks for it`}`, {
          peerId, messageType: 'awareness', byteLength, docName: this.docName
        }))
        return false
      }
      return true
    })
    for (const { clientID, state } of accepted) {
      this.awarenessOwners.set(clientID, peerId)
      if (state === null) clients.delete(clientID)
      else clients.add(clientID)
    }
    if (accepted.length === 0) return
    applyAwarenessUpdate(this.awareness, accepted.length === entries.length ? update : encodeAwarenessEntries(accepted), this)
  }

  // --- sending ---

  /**
   * Yjs encodes every transaction as an update only while someone listens to `update`: listen
   * only while there is a peer to send to (peers that join later get everything in step 2).
   */
  private setDocSubscription (on: boolean): void {
    if (on === this.listeningToDoc) return
    this.listeningToDoc = on
    if (on) {
      this.doc.on('update', this.onDocUpdate)
    } else {
      this.doc.off('update', this.onDocUpdate)
      this.pendingUpdates.clear()
    }
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction): void => {
    if (origin === this || this.channel === null || this.remotePeers.size === 0) return
    this.pendingUpdates.add(update, transaction)
    if (this.flushQueued) return
    this.flushQueued = true
    queueMicrotask(() => {
      this.flushQueued = false
      if (this.channel !== null) this.flushUpdates(this.channel)
    })
  }

  private flushUpdates (channel: ChannelHandle): void {
    const update = this.pendingUpdates.take()
    if (update === null || this.remotePeers.size === 0) return
    this.sendFrame(channel, [{ type: 'sync-update', update }], [...this.remotePeers.keys()])
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[], updated: number[], removed: number[] },
    origin: unknown
  ): void => {
    const channel = this.channel
    if (origin === this || channel === null) return
    // Only our own state travels: we never relay, and a remote state timing out here says
    // nothing about whether other peers still hear from that client.
    const own = this.awareness.clientID
    if (!added.includes(own) && !updated.includes(own) && !removed.includes(own)) return
    this.sendAwareness(channel, encodeAwarenessUpdate(this.awareness, [own]))
  }

  private sendFrame (channel: ChannelHandle, messages: DocMessage[], targets: string[]): void {
    if (targets.length === 0) return
    const frame = encodeFrame(messages)
    for (const peerId of targets) {
      const traffic = this.trafficFor(peerId)
      traffic.messagesSent++
      traffic.bytesSent += frame.byteLength
    }
    channel.send(frame, targets)
  }

  private trafficFor (peerId: string): Traffic {
    let traffic = this.trafficByPeer.get(peerId)
    if (traffic === undefined) {
      traffic = noTraffic()
      this.trafficByPeer.set(peerId, traffic)
    }
    return traffic
  }

  private sendAwareness (channel: ChannelHandle, update: Uint8Array): void {
    this.sendFrame(channel, [{ type: 'awareness', update }], [...this.remotePeers.keys()])
  }

  private readonly onPageHide = (): void => {
    const state = this.awareness.getLocalState()
    if (state === null) return
    this.savedLocalState = state
    removeAwarenessStates(this.awareness, [this.awareness.clientID], 'window unload')
  }

  /** A page restored from the back/forward cache comes back with its cursor. */
  private readonly onPageShow = (event: Event): void => {
    if ((event as PageTransitionEvent).persisted && this.channel !== null) this.restoreLocalAwareness()
  }

  /** Puts back the state removed on disconnect or pagehide, unless the app set one meanwhile. */
  private restoreLocalAwareness (): void {
    const state = this.savedLocalState
    this.savedLocalState = null
    if (state !== null && this.awareness.getLocalState() === null) this.awareness.setLocalState(state)
  }

  private readonly onDocDestroy = (): void => {
    void this.destroy()
  }

  // --- state ---

  private forgetAwarenessOf (peerId: string): void {
    const owned = [...this.awarenessOwners].filter(([, owner]) => owner === peerId).map(([clientID]) => clientID)
    for (const clientID of owned) this.awarenessOwners.delete(clientID)
    this.awarenessClientsByPeer.delete(peerId)
    // Every id the peer spoke for, present or removed: their clocks go too.
    this.forgetAwarenessClients(owned)
  }

  private forgetAllPeers (): void {
    const removed = [...this.remotePeers.keys()]
    this.remotePeers.clear()
    this.setDocSubscription(false)
    // Only what peers told us: an awareness the app shares with other providers keeps theirs.
    for (const peerId of new Set([...this.awarenessOwners.values()])) this.forgetAwarenessOf(peerId)
    if (removed.length > 0) this.emitPeers([], removed)
  }

  /**
   * Removes remote awareness states and their clocks. y-protocols keeps a removed client's clock
   * and ignores a state that does not beat it, so a peer that comes back with its unchanged state
   * would stay invisible until its 15 s renewal.
   */
  private forgetAwarenessClients (clients: number[]): void {
    const present = clients.filter((id) => this.awareness.states.has(id))
    if (present.length > 0) removeAwarenessStates(this.awareness, present, this)
    for (const id of clients) this.awareness.meta.delete(id)
  }

  private updateSynced (): void {
    const channel = this.channel
    let synced = this._status === 'connected' && channel !== null && channel.pendingPeerCount() === 0
    if (synced) for (const peer of this.remotePeers.values()) if (!peer.answered) synced = false
    if (synced === this._synced) return
    this._synced = synced
    this.emit('sync', [synced])
    this.emit('synced', [synced])
    if (synced) for (const waiter of this.syncedWaiters.splice(0)) waiter.resolve()
  }

  private setStatus (status: ProviderStatus): void {
    if (status === this._status) return
    this._status = status
    if (status === 'disconnected') this.signalingMonitor.stop()
    else this.signalingMonitor.start()
    this.emit('status', [{ status, connected: status === 'connected' }])
  }

  private emitPeers (added: string[], removed: string[]): void {
    const peers = this.peers
    this.emit('peers', [{ added, removed, peers, webrtcPeers: peers, bcPeers: [] }])
  }
}
