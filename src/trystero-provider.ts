/**
 * TrysteroProvider: a Yjs provider that syncs a document and its awareness between browsers (and
 * Node) over Trystero, with whatever Trystero strategy the app picks. This file is its lifecycle
 * (connect, disconnect, destroy) and its events; the wire protocol (PROTOCOL.md) is spoken by the
 * modules under `provider/`: a `DocSession` per joined room, `AwarenessSync` for presence.
 */
import type * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import type { RoomRole } from './admission/room-keys.js'
import type { ProviderLimits } from './limits.js'
import { TrysteroYjsError } from './errors.js'
import { AwarenessSync } from './provider/awareness-sync.js'
import { DocSession, type SessionHost } from './provider/doc-session.js'
import { peersEvent, type ProviderStatus, type TrysteroProviderEvents } from './provider/events.js'
import { resolveOptions, type ResolvedOptions, type TrysteroProviderOptions } from './provider/options.js'
import { RoomAccess } from './provider/room-access.js'
import { SyncedWaiters } from './provider/synced-waiters.js'
import { ReportingObservable } from './reporting-observable.js'
import { SignalingMonitor, type SignalingStatus } from './signaling-status.js'
import type { RoomLease } from './room-lease.js'
import type { TrysteroConfig, TrysteroRoom } from './room-types.js'
import { TrafficLedger, type Traffic } from './traffic.js'

export { defaultAppId } from './provider/options.js'
export type { ProviderOwnOptions, TrysteroProviderOptions } from './provider/options.js'
export type { ProviderStatus, TrysteroProviderEvents } from './provider/events.js'

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
  private readonly access: RoomAccess
  /** While connected: the document's session on the room, and our lease on it if we joined it. */
  private current: { session: DocSession, room: TrysteroRoom, lease: RoomLease | null } | null = null
  private readonly syncedWaiters = new SyncedWaiters()
  private readonly signalingMonitor: SignalingMonitor
  private readonly unwatchAwareness: () => void

  constructor (doc: Y.Doc, roomOrId: string | TrysteroRoom, options: TrysteroProviderOptions<Config> = {}) {
    super()
    this.options = resolveOptions(options)
    const { docName, awareness, resyncInterval, stateSnapshot, connect } = this.options.own
    this.access = new RoomAccess(roomOrId, this.options, options.appId !== undefined)
    this.doc = doc
    this.roomId = this.access.roomId
    this.docName = docName ?? (doc._item !== null ? doc.guid : '')
    this.ownsAwareness = awareness === undefined
    this.awareness = awareness ?? new Awareness(doc)
    this.awarenessSync = new AwarenessSync(this.awareness, this, this.docName, this.report)
    this.signalingMonitor = this.access.signalingMonitor({
      onChange: (status) => this.emit('signaling', [status]),
      onUnreachable: (error) => this.reportError(error)
    })
    this.sessionHost = {
      doc,
      docName: this.docName,
      awarenessSync: this.awarenessSync,
      traffic: this.trafficLedger,
      limits: this.options.limits,
      resyncInterval,
      stateSnapshot,
      peersChanged: (added, removed) => this.emitPeers(added, removed),
      syncInputsChanged: () => this.updateSynced(),
      report: this.report
    }
    doc.on('destroy', this.onDocDestroy)
    this.unwatchAwareness = this.awarenessSync.watch(() => this.current?.session ?? null)
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

  /** Peers that have this document open: Trystero peer ids, and `tab:…` ids of this browser's other tabs. */
  get peers (): string[] {
    return this.current?.session.peerIds ?? []
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
    return this.current?.room ?? null
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
    return this.syncedWaiters.wait()
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
      const entered = await this.access.enter()
      lease = entered.lease
      if (generation !== this.generation) {
        await lease?.release()
        return
      }
      session = new DocSession(this.sessionHost, this)
      session.bind(this.access.attach(entered, this.docName, { ...session.member, roomLeft: () => this.onRoomLeft(session) }))
      this.current = { session, room: entered.room, lease }
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
    if (this.current?.session !== session) return
    session.start()
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
    const current = this.current
    if (current !== null) {
      // Edits of this tick still go out; then our cursor disappears at the others at once (the
      // removal is sent while the session is open).
      current.session.flushUpdates()
      this.awarenessSync.hideLocal('disconnect')
      this.current = null
      current.session.close()
    }
    this.setStatus('disconnected')
    this.updateSynced()
    await Promise.all([current?.lease?.release(), staleJoin])
  }

  /** Sends step 1 to every peer with the document open; their step 2 fills any gap. */
  resync (): void {
    this.current?.session.resync()
  }

  /** Disconnects and releases everything. Also runs when the document is destroyed. */
  override async destroy (): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    this.doc.off('destroy', this.onDocDestroy)
    const left = this.disconnect()
    // After disconnect() has sent our cursor's removal (synchronously, before it awaits).
    this.unwatchAwareness()
    if (this.ownsAwareness) this.awareness.destroy()
    this.syncedWaiters.close(new TrysteroYjsError('provider destroyed before it synced', { docName: this.docName }))
    super.destroy()
    await left
  }

  // --- from the session and the room ---

  /** The room was left under us (by the app, through room.leave()): nothing can be sent. */
  private onRoomLeft (session: DocSession): void {
    const current = this.current
    if (current?.session !== session) return
    this.generation++
    this.access.roomLeft()
    this.current = null
    void current.lease?.release()
    session.abandon()
    this.setStatus('disconnected')
    this.updateSynced()
  }

  private readonly onDocDestroy = (): void => {
    void this.destroy()
  }

  // --- state ---

  private updateSynced (): void {
    const synced = this._status === 'connected' && this.current !== null && this.current.session.synced
    if (synced === this._synced) return
    this._synced = synced
    this.emit('sync', [synced])
    this.emit('synced', [synced])
    if (synced) this.syncedWaiters.resolveAll()
  }

  private setStatus (status: ProviderStatus): void {
    if (status === this._status) return
    this._status = status
    if (status === 'disconnected') this.signalingMonitor.stop()
    else this.signalingMonitor.start()
    this.emit('status', [{ status, connected: status === 'connected' }])
  }

  private emitPeers (added: string[], removed: string[]): void {
    this.emit('peers', [peersEvent(added, removed, this.peers)])
  }
}
