/**
 * One kept room: its document loaded from its store, a provider in the room as a passive Trystero
 * peer (dormant until a user joins, never connected to another passive peer), and optionally the
 * upstream bridge. A room nobody has open for `unloadAfterMs` is unloaded — document, store,
 * provider — and stays joined, still dormant, to be loaded again when a user arrives.
 *
 * Why unloading leaves the Trystero room and joins it anew: the room channel (RoomHub) lives as
 * long as its room object and keeps answering joins with the documents open *now*. A user
 * arriving in an unloaded room would hear "no document here", think itself synced with an empty
 * document, and only then hear the keeper open it — an app that fills an empty document with
 * default content once synced would do so. A fresh room object has no hub yet: the keeper's join
 * handler loads the document (synchronously: SQLite and Yjs both are) before the provider's hub
 * exists, so the first thing a user hears from the keeper already lists the document.
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
  error: (error: TrysteroYjsError) => void
  warning: (warning: TrysteroYjsError) => void
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
    room.onPeerJoin = () => {
      if (this.closed || this.room !== room || this.loaded !== null || this.unloading !== null) return
      try {
        this.bringUp('peer')
      } catch (error) {
        this.ctx.emit('error', error instanceof TrysteroYjsError ? error : new KeeperError('could not load the room for a peer', { roomId: this.ctx.roomId, cause: error }))
      }
    }
    return room
  }

  /** Store → document → provider (→ upstream), synchronously. */
  private bringUp (reason: 'keep' | 'peer'): LoadStats {
    const { roomId, path, emit } = this.ctx
    const store = this.ctx.openStore()
    let loadedDoc
    try {
      loadedDoc = StoredDoc.load(store, this.ctx.compaction, (kind, error) => emit(kind, error))
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
    const wrap = (error: TrysteroYjsError): TrysteroYjsError =>
      new KeeperError(error.message.replace(/^trystero-yjs: /, ''), { roomId, peerId: error.peerId, messageType: error.messageType, byteLength: error.byteLength, cause: error.cause })
    provider.on('error', (error) => emit('error', wrap(error)))
    provider.on('warning', (warning) => emit('warning', wrap(warning)))
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

  /** Arms the unload timer while nobody has the document open; disarms it when someone does. */
  private updateIdle (): void {
    const idle = this.loaded !== null && this.loaded.provider.peers.length === 0 && !this.closed
    if (!idle) {
      if (this.idleTimer !== null) clearTimeout(this.idleTimer)
      this.idleTimer = null
      return
    }
    if (this.idleTimer !== null || !Number.isFinite(this.ctx.unloadAfterMs)) return
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null
      if (this.loaded === null || this.loaded.provider.peers.length > 0 || this.unloading !== null) return
      this.unloading = this.unload().catch((error: unknown) => {
        this.ctx.emit('error', new KeeperError('unloading failed', { roomId: this.ctx.roomId, cause: error }))
      }).finally(() => { this.unloading = null })
    }, this.ctx.unloadAfterMs)
  }

  private async unload (): Promise<void> {
    const fileBytes = await this.takeDown()
    const room = this.room
    this.room = null
    if (room !== null) {
      room.onPeerJoin = null
      await room.leave()
    }
    if (this.closed) return
    this.room = this.joinPassive()
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
      room.onPeerJoin = null
      await room.leave()
    }
  }
}
