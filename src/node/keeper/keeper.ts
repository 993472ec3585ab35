/**
 * The keeper: an always-on Node peer that keeps rooms' documents on disk and serves them to
 * whoever joins, so that a document outlives every browser that edited it.
 *
 * It joins each room as a Trystero *passive* peer: a passive peer announces nothing and answers
 * nobody until a non-passive peer (a user) shows up, and never connects to another passive peer —
 * so a room with only keepers in it stays silent, two keepers never connect, and a room of
 * browsers works exactly as without a keeper until one joins it.
 */
import { mkdirSync } from 'node:fs'
import type * as Y from 'yjs'
import { ReportingObservable } from '../../reporting-observable.js'
import type { JoinRoom, JoinRoomCallbacks, TrysteroConfig, TrysteroRoom } from '../../room-types.js'
import { KeeperError } from './keeper-error.js'
import { KeptRoom, type KeptRoomEvents } from './kept-room.js'
import { loadNodeRtc, loadSqlite } from './optional-packages.js'
import { RoomStore, roomStorePath } from './room-store.js'
import { roomCredentials, type RoomSecret } from '../../admission/room-keys.js'
import type { ProviderLimits } from '../../limits.js'
import { joinConfig, resolveOptions } from '../../provider/options.js'
import { defaultCompaction, type CompactionPolicy, type LoadStats } from './stored-doc.js'
import { yWebsocketUpstream, type Upstream } from './upstream.js'

/** The keeper's own options; every other option is the strategy's config (as for the provider). */
export interface KeeperOwnOptions<Config extends { appId: string } = TrysteroConfig> {
  /** Directory of the room stores, one SQLite file per room. Created if missing. */
  dir: string
  /** The Trystero strategy's `joinRoom`, e.g. from `@trystero-p2p/mqtt`. */
  joinRoom: JoinRoom<Config>
  /**
   * Bridge every kept room to a server engine: the `ws://` / `wss://` URL of a y-websocket server
   * (room `r` is its document `r`), or your own `Upstream`. Default: none.
   */
  upstream?: string | Upstream
  /** Unload a room's document once nobody has had it open for this long. Default 10 minutes; `Infinity`: never. */
  unloadAfterMs?: number
  /** When to merge the stored updates into one. */
  compaction?: Partial<CompactionPolicy>
  /** The document's name within each room (PROTOCOL.md §3.1). Default `""`, the room's main document. */
  docName?: string
  /** Provider option: how long a new peer may take to say which documents it has open. */
  peerHelloTimeout?: number
  /** Provider option: larger messages from a peer are dropped and reported. */
  maxMessageBytes?: number
  /** Provider option: what one peer may cost (the keeper runs beside strangers, unattended). */
  limits?: Partial<ProviderLimits>
  /**
   * Every kept room's password (a private room, PROTOCOL.md §5): the keeper proves it and
   * refuses peers that cannot. A room kept with its own `writeKey` (`keep(roomId, {writeKey})`)
   * uses that instead.
   */
  password?: string
}

/** A kept room's own key, instead of the keeper's `password`. */
export interface KeepOptions {
  /** The room's write key (as in an editor link): the keeper needs the writer role. */
  writeKey?: string
}

/** Keeper options: its own, plus the strategy's config (`appId`, `password`, `relayConfig`, `rtcConfig`, …). */
export type KeeperOptions<Config extends { appId: string } = TrysteroConfig> =
  KeeperOwnOptions<Config> & Partial<Config> & { appId: string }

/** The keeper's events, one per thing worth a log line; each names its room. */
export type KeeperEvents = KeptRoomEvents

/** A room nobody has open is unloaded after this long (10 minutes) unless `unloadAfterMs` says otherwise. */
export const defaultUnloadAfterMs = 10 * 60 * 1000

/** What the keeper loads once, before its first room. */
interface Setup {
  Sqlite: Parameters<typeof RoomStore.open>[0]
  upstream: Upstream | null
  rtcPolyfill: unknown
}

/**
 * Keeps rooms' documents on disk and serves them to whoever joins.
 *
 * ```ts
 * import { joinRoom } from '@trystero-p2p/mqtt'
 * import { Keeper } from 'trystero-yjs/node'
 * const keeper = new Keeper({ dir: './data', appId: 'my-app', joinRoom, relayConfig: { urls: ['ws://127.0.0.1:8787'] } })
 * keeper.on('join', ({ roomId, peerId }) => console.log(roomId, peerId))
 * await keeper.keep('my-room')
 * // …
 * await keeper.close()
 * ```
 *
 * Node only. Needs `better-sqlite3` (12.x) and, unless `rtcPolyfill` is given or the runtime has
 * `RTCPeerConnection`, `node-datachannel`; `y-websocket` and `ws` for a URL `upstream`.
 */
export class Keeper<Config extends { appId: string } = TrysteroConfig> extends ReportingObservable<KeeperEvents> {
  /** The directory of the room stores. */
  readonly dir: string
  private readonly kept = new Map<string, KeptRoom>()
  private readonly keeping = new Map<string, Promise<LoadStats>>()
  // `Config` types the constructor's options only: kept out of members, so that a keeper of any
  // strategy is assignable to a plain `Keeper` (as for the provider).
  private readonly own: Required<Pick<KeeperOwnOptions<any>, 'unloadAfterMs' | 'docName'>> & KeeperOwnOptions<any>
  private readonly strategyConfig: Record<string, unknown> & { appId: string }
  private setup: Promise<Setup> | null = null
  /** Connections made through the polyfill the keeper loaded itself: closed by close(). */
  private readonly connections = new Set<{ close: () => void }>()
  private closed = false

  constructor (options: KeeperOptions<Config>) {
    super()
    const { dir, joinRoom, upstream, unloadAfterMs = defaultUnloadAfterMs, compaction, docName = '', peerHelloTimeout, maxMessageBytes, limits, password, ...strategyConfig } = options
    if (typeof dir !== 'string' || dir === '') throw new KeeperError('options.dir must name a directory')
    if (typeof joinRoom !== 'function') throw new KeeperError('options.joinRoom must be a Trystero strategy\'s joinRoom')
    if (typeof strategyConfig.appId !== 'string' || strategyConfig.appId === '') throw new KeeperError('options.appId must be set (rooms are namespaced by it)')
    if (!(unloadAfterMs > 0)) throw new KeeperError(`options.unloadAfterMs must be positive (Infinity: never), got ${unloadAfterMs}`)
    this.dir = dir
    this.own = { dir, joinRoom, upstream, unloadAfterMs, compaction, docName, peerHelloTimeout, maxMessageBytes, limits, password }
    this.strategyConfig = strategyConfig as Record<string, unknown> & { appId: string }
  }

  /** Rooms kept now (loaded or dormant). */
  get rooms (): string[] {
    return [...this.kept.keys()]
  }

  /** A kept room's state: whether its document is in memory, and how many peers have it open. */
  roomStatus (roomId: string): { loaded: boolean, peers: number } | null {
    const room = this.kept.get(roomId)
    return room === undefined ? null : { loaded: room.isLoaded, peers: room.peerCount }
  }

  /**
   * A kept room's document while it is loaded; `null` while it is unloaded or not kept. Edits
   * made to it are stored and reach the room's peers (and upstream) like a peer's would. Do not
   * keep it: the keeper replaces it when the room unloads and loads again.
   */
  doc (roomId: string): Y.Doc | null {
    return this.kept.get(roomId)?.doc ?? null
  }

  /**
   * Starts keeping a room: loads its store (creating it if new), joins the room as a passive
   * peer. Resolves with what was loaded. Rejects with a `KeeperError` naming the room and file if
   * the store is unreadable; other rooms are not affected. Keeping a kept room does nothing.
   */
  async keep (roomId: string, options: KeepOptions = {}): Promise<LoadStats> {
    if (this.closed) throw new KeeperError('the keeper is closed', { roomId })
    if (typeof roomId !== 'string' || roomId === '') throw new KeeperError('a room id must be a non-empty string')
    const pending = this.keeping.get(roomId)
    if (pending !== undefined) return await pending
    const starting = this.start(roomId, options)
    this.keeping.set(roomId, starting)
    try {
      return await starting
    } finally {
      this.keeping.delete(roomId)
    }
  }

  private async start (roomId: string, options: KeepOptions): Promise<LoadStats> {
    const { Sqlite, upstream, rtcPolyfill } = await this.prepare()
    if (this.closed) throw new KeeperError('the keeper is closed', { roomId })
    const existing = this.kept.get(roomId)
    if (existing !== undefined) return existing.lastLoad
    // A private room: Trystero gets the password derived from the room's keys (as every provider
    // does), and the provider proves the keys to each peer and refuses those that cannot.
    const secret: RoomSecret | null = options.writeKey !== undefined ? { writeKey: options.writeKey } : this.own.password !== undefined ? { password: this.own.password } : null
    const credentials = secret === null ? null : await roomCredentials(secret, { appId: this.strategyConfig.appId, roomId })
    const path = roomStorePath(this.dir, roomId)
    const { kept, stats } = KeptRoom.keep({
      roomId,
      path,
      openStore: () => RoomStore.open(Sqlite, path, roomId),
      joinRoom: (id: string, callbacks: JoinRoomCallbacks): TrysteroRoom => this.own.joinRoom(joinConfig(resolveOptions({
        ...this.strategyConfig,
        // node-datachannel on loopback: with trickle ICE, 1 join in 10 failed its first attempt.
        trickleIce: this.strategyConfig['trickleIce'] ?? false,
        ...(rtcPolyfill === undefined ? {} : { rtcPolyfill }),
        ...(this.own.limits === undefined ? {} : { limits: this.own.limits }),
        passive: true
      }), credentials) as never, id, callbacks),
      providerOptions: {
        docName: this.own.docName,
        // The keeper joins the room itself: the provider gets the keys and the app and room they are bound to.
        ...(secret ?? {}),
        appId: this.strategyConfig.appId,
        roomId,
        ...(this.own.peerHelloTimeout === undefined ? {} : { peerHelloTimeout: this.own.peerHelloTimeout }),
        ...(this.own.maxMessageBytes === undefined ? {} : { maxMessageBytes: this.own.maxMessageBytes }),
        ...(this.own.limits === undefined ? {} : { limits: this.own.limits })
      },
      upstream,
      unloadAfterMs: this.own.unloadAfterMs,
      compaction: { ...defaultCompaction, ...this.own.compaction },
      emit: (name, ...args) => this.emit(name, args as never)
    })
    this.kept.set(roomId, kept)
    return stats
  }

  /** Loads the optional packages once, before the first room: loading a room is synchronous after that. */
  private async prepare (): Promise<Setup> {
    this.setup ??= (async () => {
      mkdirSync(this.dir, { recursive: true })
      const Sqlite = await loadSqlite()
      const given = this.own.upstream
      const upstream = given === undefined ? null : typeof given === 'string' ? await yWebsocketUpstream(given) : given
      let rtcPolyfill: unknown = this.strategyConfig['rtcPolyfill']
      if (rtcPolyfill === undefined && typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection !== 'function') {
        const Polyfill = await loadNodeRtc()
        const connections = this.connections
        // Ended connections are closed and released by every room's config (joinConfig); the
        // others are closed at close(), so that node-datachannel lets the process exit.
        rtcPolyfill = class KeeperPeerConnection extends Polyfill {
          constructor (config?: RTCConfiguration) {
            super(config)
            connections.add(this)
            this.addEventListener('connectionstatechange', () => {
              if (this.connectionState === 'closed' || this.connectionState === 'failed') connections.delete(this)
            })
          }
        }
      }
      return { Sqlite, upstream, rtcPolyfill }
    })().catch((error: unknown) => {
      this.setup = null
      throw error
    })
    return await this.setup
  }

  /** Stops keeping a room: compacts and closes its store, leaves it. Its file stays. */
  async release (roomId: string): Promise<void> {
    await this.keeping.get(roomId)?.catch(() => undefined)
    const room = this.kept.get(roomId)
    if (room === undefined) return
    this.kept.delete(roomId)
    await room.close()
  }

  /**
   * Releases every room and closes the WebRTC connections the keeper made. The strategy's relay
   * connection (MQTT client, Nostr sockets) belongs to the strategy module and stays open: end
   * the process, or close it as the strategy allows.
   */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.keeping.values()].map(async (p) => await p.catch(() => undefined)))
    await Promise.all(this.rooms.map(async (roomId) => await this.release(roomId)))
    for (const connection of this.connections) connection.close()
    this.connections.clear()
    super.destroy()
  }
}
