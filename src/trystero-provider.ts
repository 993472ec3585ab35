/**
 * TrysteroProvider: a Yjs provider that syncs a document and its awareness between browsers (and
 * Node) over Trystero, with whatever Trystero strategy the app picks. This file is its lifecycle
 * (connect, disconnect, destroy) and its events; the wire protocol (PROTOCOL.md) is spoken by the
 * modules under `provider/`: a `DocSession` per joined room, `AwarenessSync` for presence.
 */
import type * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { roomCredentials, type RoomCredentials, type RoomRole } from './admission/room-keys.js'
import { docChannelKey } from './channel-key.js'
import type { ProviderLimits } from './limits.js'
import { TrysteroYjsError } from './errors.js'
import { AwarenessSync } from './provider/awareness-sync.js'
import { warmUpCompression } from './compact/deflate-raw.js'
import { DocSession, type SessionHost } from './provider/doc-session.js'
import { joinConfig, loadDefaultJoinRoom, resolveOptions, type ResolvedOptions, type TrysteroProviderOptions } from './provider/options.js'
import { ReportingObservable } from './reporting-observable.js'
import { SignalingMonitor, defaultStrategyRelaySockets, type SignalingStatus } from './signaling-status.js'
import { RoomHub, type ChannelMember } from './room-hub.js'
import { acquireRoom, type RoomLease } from './room-lease.js'
import type { TrysteroConfig, TrysteroRoom } from './room-types.js'
import { TrafficLedger, type Traffic } from './traffic.js'

export { defaultAppId } from './provider/options.js'
export type { ProviderOwnOptions, TrysteroProviderOptions } from './provider/options.js'

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
  private readonly options: ResolvedOptions
  private readonly awarenessSync: AwarenessSync
  private readonly trafficLedger = new TrafficLedger()
  private readonly sessionHost: SessionHost

  private _status: ProviderStatus = 'disconnected'
  private _synced = false
  private destroyed = false
  /** Bumped by every connect/disconnect, so that a join that finishes late knows it is stale. */
  private generation = 0
  private connecting: Promise<void> | null = null
  /** The app left the room it gave us: it cannot be used again. */
  private fixedRoomLeft = false
  private lease: RoomLease | null = null
  private session: DocSession | null = null
  private room_: TrysteroRoom | null = null
  private credentials: Promise<RoomCredentials | null> | null = null
  private resyncTimer: ReturnType<typeof setInterval> | null = null
  private syncedWaiters: Array<{ resolve: () => void, reject: (error: Error) => void }> = []
  private readonly signalingMonitor: SignalingMonitor

  constructor (doc: Y.Doc, roomOrId: string | TrysteroRoom, options: TrysteroProviderOptions<Config> = {}) {
    super()
    if (typeof roomOrId === 'string' ? roomOrId.length === 0 : typeof roomOrId?.makeAction !== 'function') {
      throw new TrysteroYjsError('the second argument must be a non-empty room id or a Trystero room')
    }
    this.options = resolveOptions(options)
    const { docName, awareness, resyncInterval, connect } = this.options.own
    if (typeof roomOrId !== 'string' && this.options.secret !== null && 'password' in this.options.secret && (this.options.own.roomId === undefined || options.appId === undefined)) {
      throw new TrysteroYjsError('a password with a room object needs options.appId and options.roomId, those the room was joined with: the room keys are bound to them')
    }
    this.doc = doc
    this.roomId = typeof roomOrId === 'string' ? roomOrId : null
    this.fixedRoom = typeof roomOrId === 'string' ? null : roomOrId
    this.docName = docName ?? (doc._item !== null ? doc.guid : '')
    this.channelKey = docChannelKey(this.docName)
    this.ownsAwareness = awareness === undefined
    this.awareness = awareness ?? new Awareness(doc)
    this.awarenessSync = new AwarenessSync(this.awareness, this, this.docName, {
      error: (error) => this.reportError(error),
      warning: (warning) => this.reportWarning(warning)
    })
    const { getRelaySockets, joinRoom } = this.options.own
    this.signalingMonitor = new SignalingMonitor({
      getRelaySockets: getRelaySockets ?? (joinRoom === undefined && this.fixedRoom === null ? defaultStrategyRelaySockets() : undefined),
      urls: this.options.strategyConfig.relayConfig?.urls,
      onChange: (status) => this.emit('signaling', [status]),
      onUnreachable: (error) => this.reportError(error)
    })
    this.sessionHost = {
      doc,
      docName: this.docName,
      awarenessSync: this.awarenessSync,
      traffic: this.trafficLedger,
      limits: this.options.limits,
      peersChanged: (added, removed) => this.emitPeers(added, removed),
      syncInputsChanged: () => this.updateSynced(),
      report: (kind, error) => kind === 'error' ? this.reportError(error) : this.reportWarning(error)
    }

    doc.on('destroy', this.onDocDestroy)
    this.awareness.on('update', this.onAwarenessUpdate)
    if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
      window.addEventListener('pagehide', this.onPageHide)
      window.addEventListener('pageshow', this.onPageShow)
    }
    if (resyncInterval > 0) this.resyncTimer = setInterval(() => this.resync(), resyncInterval)
    // The first compression of a process costs tens of ms: pay it now, not on a peer's step 2.
    if (this.options.own.compactSync) void warmUpCompression()
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

  /** `viewer` with a `viewKey` (read-only: its edits stay local, peers refuse them), else `writer`. */
  get role (): RoomRole {
    return this.options.secret !== null && 'viewKey' in this.options.secret ? 'viewer' : 'writer'
  }

  /** What one peer may cost us, with the defaults filled in (per room, the first provider's apply to the room channel). */
  get limits (): Readonly<ProviderLimits> {
    return this.options.limits
  }

  /** Trystero peer ids of the peers that have this document open. */
  get peers (): string[] {
    return this.session?.peerIds ?? []
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
    return this.room_
  }

  /** This document's payload bytes and messages, both ways, since the provider was created. */
  get traffic (): Traffic {
    return this.trafficLedger.total()
  }

  /** This document's traffic with one peer (zeros for a peer never heard of). */
  trafficWith (peerId: string): Traffic {
    return this.trafficLedger.with(peerId)
  }

  /** The awareness client ids a peer speaks for: which user (cursor, name) is that peer. */
  peerAwareness (peerId: string): number[] {
    return this.awarenessSync.clientsOf(peerId)
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
    let session: DocSession
    try {
      if (this.fixedRoomLeft) throw new TrysteroYjsError('the room given to this provider was left by the app; create a provider for a new room')
      const credentials = await this.roomCredentials()
      let room = this.fixedRoom
      if (room === null) {
        const joinRoom = this.options.own.joinRoom ?? await loadDefaultJoinRoom()
        lease = await acquireRoom(joinRoom, joinConfig(this.options, credentials), this.roomId!, this.options.own.joinCallbacks)
        room = lease.room
      }
      if (generation !== this.generation) {
        await lease?.release()
        return
      }
      session = new DocSession(this.sessionHost, this)
      const claimScope = this.fixedRoom === null ? { appId: this.options.strategyConfig.appId, roomId: this.roomId! } : undefined
      const { peerHelloTimeout, connectionGuard, compactSync } = this.options.own
      const hub = RoomHub.for(room, { peerHelloTimeout, credentials, limits: this.options.limits, claimScope, actOnGuard: connectionGuard, compactSync })
      const member: ChannelMember = { ...session.member, roomLeft: () => this.onRoomLeft(session) }
      session.bind(hub.attach(this.channelKey, member))
      this.session = session
      this.room_ = room
      this.lease = lease
    } catch (error) {
      await lease?.release()
      if (generation !== this.generation) return
      this.reportError(error instanceof TrysteroYjsError ? error : new TrysteroYjsError('could not join the room', { docName: this.docName, cause: error }))
      this.setStatus('disconnected')
      return
    }
    this.awarenessSync.restoreLocal()
    this.setStatus('connected')
    // Listeners of the events above are app code: they may have disconnected us already.
    if (this.session !== session) return
    session.start()
    this.updateSynced()
  }

  /** Derived once (PBKDF2 is slow on purpose), on first connect. */
  private async roomCredentials (): Promise<RoomCredentials | null> {
    const { secret } = this.options
    this.credentials ??= secret === null
      ? Promise.resolve(null)
      : roomCredentials(secret, { appId: this.options.strategyConfig.appId, roomId: this.roomId ?? this.options.own.roomId ?? null })
    return await this.credentials
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
    const session = this.session
    const lease = this.lease
    this.lease = null
    if (session !== null) {
      // Edits of this tick still go out; then our cursor disappears at the others at once (the
      // removal is sent while the session is open).
      session.flushUpdates()
      this.awarenessSync.hideLocal('disconnect')
      this.session = null
      this.room_ = null
      session.close()
    }
    this.setStatus('disconnected')
    this.updateSynced()
    await Promise.all([lease?.release(), staleJoin])
  }

  /** Sends step 1 to every peer with the document open; their step 2 fills any gap. */
  resync (): void {
    this.session?.resync()
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
    this.awareness.off('update', this.onAwarenessUpdate)
    if (this.ownsAwareness) this.awareness.destroy()
    for (const waiter of this.syncedWaiters.splice(0)) {
      waiter.reject(new TrysteroYjsError('provider destroyed before it synced', { docName: this.docName }))
    }
    super.destroy()
    await left
  }

  // --- from the session and the room ---

  /** The room was left under us (by the app, through room.leave()): nothing can be sent. */
  private onRoomLeft (session: DocSession): void {
    if (this.session !== session) return
    this.generation++
    if (this.fixedRoom !== null) this.fixedRoomLeft = true
    this.session = null
    this.room_ = null
    const lease = this.lease
    this.lease = null
    void lease?.release()
    session.abandon()
    this.setStatus('disconnected')
    this.updateSynced()
  }

  private readonly onAwarenessUpdate = (change: { added: number[], updated: number[], removed: number[] }, origin: unknown): void => {
    if (this.session === null) return
    const update = this.awarenessSync.outgoing(change, origin)
    if (update !== null) this.session.sendAwareness(update)
  }

  private readonly onPageHide = (): void => this.awarenessSync.hideLocal('window unload')

  /** A page restored from the back/forward cache comes back with its cursor. */
  private readonly onPageShow = (event: Event): void => {
    if ((event as PageTransitionEvent).persisted && this.session !== null) this.awarenessSync.restoreLocal()
  }

  private readonly onDocDestroy = (): void => {
    void this.destroy()
  }

  // --- state ---

  private updateSynced (): void {
    const synced = this._status === 'connected' && this.session !== null && this.session.synced
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
