/**
 * One kept room: its document loaded from its store, a provider in the room as a passive Trystero
 * peer (dormant until a user joins, never connected to another passive peer), and optionally the
 * upstream bridge. A room with nobody in it for `unloadAfterMs` is unloaded — document, store,
 * provider, upstream — and stays joined, still dormant, to be loaded again when a peer joins.
 *
 * The Trystero room is never left and joined again while kept: leaving a room while a peer's
 * WebRTC handshake with it is under way leaves that peer waiting ~23 s (Trystero's offer and
 * answer lifetimes) before it tries again, measured here with a peer arriving just as its room
 * unloaded. Staying in the room costs a subscription at the signaling server and nothing else.
 * While unloaded, the room channel still answers a newcomer's HELLO (with no document), and the
 * provider, created in the join handler that runs right after, announces the document (OPEN)
 * before the newcomer can have asked for it.
 */
import type * as Y from 'yjs'
import { TrysteroProvider, type TrysteroProviderEvents } from '../../trystero-provider.js'
import { TrysteroYjsError } from '../../errors.js'
import type { JoinRoomCallbacks, TrysteroRoom } from '../../room-types.js'
import { KeeperError } from './keeper-error.js'
import { fileBytes, type RoomStore } from './room-store.js'
import { StoredDoc, type CompactionPolicy, type LoadStats } from './stored-doc.js'
import type { Upstream, UpstreamEvent, UpstreamLink } from './upstream.js'

/** What a kept room tells the keeper. Every event names its room. */
export interface KeptRoomEvents {
  load: (event: LoadStats & { roomId: string, path: string, reason: 'keep' | 'peer' }) => void
  unload: (event: { roomId: string, path: string, fileBytes: number }) => void
  join: (event: { roomId: string, peerId: string, peers: number }) => void
  leave: (event: { roomId: string, peerId: string, peers: number }) => void
  /** Every peer that has the document open answered the keeper's state (PROTOCOL.md §3.4). */
  sync: (event: { roomId: string, peers: number }) => void
  /** Trystero's `onJoinError`: a wrong password, or (spuriously) offer glare. */
  'join-error': (event: { roomId: string, peerId: string, error: string }) => void
  upstream: (event: UpstreamEvent & { roomId: string }) => void
  /**
   * Something that cost data or a sync. The room comes second: a provider's error (a peer's
   * malformed message, a failed send) is passed on as it is, naming the peer; the keeper's own
   * (`KeeperError`) also name the room and store file themselves.
   */
  error: (error: TrysteroYjsError, roomId?: string) => void
  /** Something ignored safely. */
  warning: (warning: TrysteroYjsError, roomId?: string) => void
}

export type KeptRoomEmit = <K extends keyof KeptRoomEvents>(name: K, ...args: Parameters<KeptRoomEvents[K]>) => void

export interface KeptRoomContext {
  roomId: string
  path: string
  openStore: () => RoomStore
  /** Joins the room as a passive peer (the keeper's strategy and config). */
  joinRoom: (roomId: string, callbacks: JoinRoomCallbacks) => TrysteroRoom
  /** Provider options besides the room: `docName`, `peerHelloTimeout`, `password`, … */
  providerOptions: Record<string, unknown>
  upstream: Upstream | null
  /** `Infinity`: never unload. */
  unloadAfterMs: number
  compaction: CompactionPolicy
  emit: KeptRoomEmit
}

interface Loaded {
  stored: StoredDoc
  provider: TrysteroProvider
  upstream: UpstreamLink | null
}

export class KeptRoom {
  private room: TrysteroRoom | null = null
  private loaded: Loaded | null = null
  private idleTimer: ReturnType<typeof setTimeout> | null = null
  /** The unload under way, if any; close() waits for it. */
  private unloading: Promise<void> | null = null
  private closed = false
  private lastLoadStats: LoadStats = { updates: 0, updateBytes: 0, fileBytes: 0, ms: 0 }

  private constructor (private readonly ctx: KeptRoomContext) {}

  get roomId (): string {
    return this.ctx.roomId
  }

  /** Whether the document is in memory (else the room is joined, dormant, and on disk only). */
  get isLoaded (): boolean {
    return this.loaded !== null
  }

  /** What the last load read. */
  get lastLoad (): LoadStats {
    return this.lastLoadStats
  }

  /** Peers that have the document open. */
  get peerCount (): number {
    return this.loaded?.provider.peers.length ?? 0
  }

  /** The loaded document, or `null` while unloaded. Edits to it are stored and sent like peers' edits. */
  get doc (): Y.Doc | null {
    return this.loaded?.stored.doc ?? null
  }

  /** Loads the store and joins the room. Throws a `KeeperError` if the store is unreadable. */
  static keep (ctx: KeptRoomContext): { kept: KeptRoom, stats: LoadStats } {
    const kept = new KeptRoom(ctx)
    kept.room = kept.joinPassive()
    try {
      return { kept, stats: kept.bringUp('keep') }
    } catch (error) {
      const room = kept.room
      kept.room = null
      kept.closed = true
      void room.leave()
      throw error
    }
  }

  private joinPassive (): TrysteroRoom {
    const room = this.ctx.joinRoom(this.ctx.roomId, {
      onJoinError: ({ peerId, error }) => this.ctx.emit('join-error', { roomId: this.ctx.roomId, peerId, error })
    })
    // Set before any provider taps the room: its channel hub listens beside these, not instead.
    room.onPeerJoin = () => {
      if (this.closed) return
      this.updateIdle()
      if (this.loaded !== null) return
      // An unload under way finishes first (it awaits the provider's goodbye); then load anew.
      void (this.unloading ?? Promise.resolve()).then(() => {
        if (this.closed || this.loaded !== null || this.roomPeerCount() === 0) return
        try {
          this.bringUp('peer')
        } catch (error) {
          this.ctx.emit('error', error instanceof TrysteroYjsError ? error : new KeeperError('could not load the room for a peer', { roomId: this.ctx.roomId, cause: error }), this.ctx.roomId)
        }
      })
    }
    room.onPeerLeave = () => this.updateIdle()
    return room
  }

  /** Peers connected in the room, whatever they have open. */
  private roomPeerCount (): number {
    return this.room === null ? 0 : Object.keys(this.room.getPeers()).length
  }

  /** Store → document → provider (→ upstream), synchronously. */
  private bringUp (reason: 'keep' | 'peer'): LoadStats {
    const { roomId, path, emit } = this.ctx
    const store = this.ctx.openStore()
    let loadedDoc
    try {
      loadedDoc = StoredDoc.load(store, this.ctx.compaction, (kind, error) => emit(kind, error, roomId))
    } catch (error) {
      store.close()
      throw error
    }
    const { stored, stats } = loadedDoc
    const provider = new TrysteroProvider(stored.doc, this.room!, this.ctx.providerOptions)
    // The keeper is nobody: no cursor, no name in anyone's peer list of users.
    provider.awareness.setLocalState(null)
    this.listen(provider)
    const upstream = this.ctx.upstream?.connect(stored.doc, roomId, (event) => emit('upstream', { ...event, roomId })) ?? null
    this.loaded = { stored, provider, upstream }
    this.lastLoadStats = stats
    emit('load', { ...stats, roomId, path, reason })
    this.updateIdle()
    return stats
  }

  private listen (provider: TrysteroProvider): void {
    const { roomId, emit } = this.ctx
    provider.on('error', (error) => emit('error', error, roomId))
    provider.on('warning', (warning) => emit('warning', warning, roomId))
    const onPeers: TrysteroProviderEvents['peers'] = ({ added, removed, peers }) => {
      for (const peerId of added) emit('join', { roomId, peerId, peers: peers.length })
      for (const peerId of removed) emit('leave', { roomId, peerId, peers: peers.length })
      this.updateIdle()
    }
    provider.on('peers', onPeers)
    provider.on('synced', (synced) => {
      if (synced && provider.peers.length > 0) emit('sync', { roomId, peers: provider.peers.length })
    })
  }

  /**
   * Arms the unload timer while nobody is in the room; disarms it when someone is. A peer in the
   * room without the document open (yet) keeps it loaded: it may open it any moment.
   */
  private isIdle (): boolean {
    return this.loaded !== null && !this.closed && this.loaded.provider.peers.length === 0 && this.roomPeerCount() === 0
  }

  private updateIdle (): void {
    const idle = this.isIdle()
    if (!idle) {
      if (this.idleTimer !== null) clearTimeout(this.idleTimer)
      this.idleTimer = null
      return
    }
    if (this.idleTimer !== null || !Number.isFinite(this.ctx.unloadAfterMs)) return
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null
      if (!this.isIdle() || this.unloading !== null) return
      this.unloading = this.unload().catch((error: unknown) => {
        this.ctx.emit('error', new KeeperError('unloading failed', { roomId: this.ctx.roomId, cause: error }), this.ctx.roomId)
      }).finally(() => { this.unloading = null })
    }, this.ctx.unloadAfterMs)
  }

  private async unload (): Promise<void> {
    const fileBytes = await this.takeDown()
    this.ctx.emit('unload', { roomId: this.ctx.roomId, path: this.ctx.path, fileBytes })
  }

  /** Provider and upstream off, store compacted and closed, document dropped. Returns the file's size. */
  private async takeDown (): Promise<number> {
    const loaded = this.loaded
    this.loaded = null
    if (loaded === null) return 0
    loaded.upstream?.destroy()
    await loaded.provider.destroy()
    loaded.stored.close()
    loaded.stored.doc.destroy()
    return fileBytes(loaded.stored.store.path)
  }

  /** Compacts and closes the store, leaves the room. Idempotent. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.idleTimer !== null) clearTimeout(this.idleTimer)
    this.idleTimer = null
    await this.unloading
    await this.takeDown()
    const room = this.room
    this.room = null
    if (room !== null) {
      // A leave in progress can re-discover a peer (Trystero waits 99 ms before unsubscribing).
      room.onPeerJoin = null
      room.onPeerLeave = null
      await room.leave()
    }
  }
}
