/**
 * The provider's options, their defaults, and the default strategy.
 */
import type { Awareness } from 'y-protocols/awareness'
import { compressionAvailable } from '../compact/deflate-raw.js'
import type { RoomCredentials, RoomSecret } from '../admission/room-keys.js'
import { guardRtcPolyfill, type PeerConnectionClass } from '../guard/index.js'
import { releaseClosedConnections } from '../release-closed-connections.js'
import { TrysteroYjsError } from '../errors.js'
import type { GetRelaySockets } from '../signaling-status.js'
import { resolveLimits, type ProviderLimits } from '../limits.js'
import type { JoinRoom, JoinRoomCallbacks, TrysteroConfig } from '../room-types.js'
import { broadcastChannelAvailable, tabChannelName } from '../room/tab-peers.js'

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
  /** Same as `limits.maxMessageBytes` (kept from version 0.1). */
  maxMessageBytes?: number
  /** How long a new peer may take to say which documents it has open. Default 5,000 ms. */
  peerHelloTimeout?: number
  /** What one peer may cost us; see `ProviderLimits` for each and its default. */
  limits?: Partial<ProviderLimits>
  /**
   * `false` joins rooms without the connection guard (src/guard/) under Trystero: then a peer's
   * malformed frame can crash a Node process, and frames for actions nobody made are buffered
   * without limit. Default: guarded. (A room given to the provider keeps whatever it was joined with.)
   */
  connectionGuard?: boolean
  /**
   * A private room's password (PROTOCOL.md §5): every peer must prove it knows the room's keys
   * before it is sent anything or heard. Trystero gets a key derived from it to encrypt the
   * signaling. Gives the `writer` role. Use `writeKey` or `viewKey` instead to join from a link.
   */
  password?: string
  /** The room's write key (`deriveRoomKeys`): the `writer` role, without the password. */
  writeKey?: string
  /** The room's view key (`deriveRoomKeys`, `viewKeyOf`): the `viewer` role, read-only. */
  viewKey?: string
  /**
   * With a room object and a `password`: the id the room was joined with, to which the keys are
   * bound (give its `appId` too). With a room id as the second argument, that id is used.
   */
  roomId?: string
  /**
   * Compact sync (PROTOCOL.md §3.7): with peers that announce it too, big step 2s and updates go
   * as Yjs V2, compressed with the platform's `CompressionStream('deflate-raw')` (311 KB → 69 KB
   * on a real document). `false` sends and announces exactly what version 1 peers speak. Default:
   * on where the platform has `deflate-raw` streams (browsers, Node ≥ 18). Per room, the first
   * provider's (or channel's) setting applies; a later provider that asks otherwise gets a `warning`.
   */
  compactSync?: boolean
  /**
   * Keep the document's whole state encoded (compressed, with compact sync) while it is on a room,
   * built when the document has been idle for a second, so that a peer opening it for the first
   * time is answered at once instead of after the encoding (PROTOCOL.md §3.3). Costs the memory
   * of one encoded state (none over 16 MiB) and, once peers have joined from it, a rebuild at idle
   * moments, at most 5% of the time. Default `true`.
   */
  stateSnapshot?: boolean
  /**
   * Sync with the page's other tabs over a `BroadcastChannel` too (PROTOCOL.md §7), as y-webrtc
   * does: tabs of one origin sync with no network and every signaling relay down, and a tab that
   * is also a WebRTC peer is sent nothing twice. In a private room what crosses it is encrypted
   * with a key derived from the room's view key. Default: on in browsers (where `BroadcastChannel`
   * exists), off in Node, whose providers in one process are no tabs and would bypass the network
   * (`true` turns it on between providers and worker threads of one Node process). Needs the room
   * id: with a room object, give `roomId` (and `appId`). Per room, the first provider's setting applies; a later provider that asks otherwise gets a `warning`.
   */
  broadcastChannel?: boolean
}

/** Provider options: its own plus the strategy's config (`appId`, `password`, `relayConfig`, …). */
export type TrysteroProviderOptions<Config extends { appId: string } = TrysteroConfig> =
  ProviderOwnOptions<Config> & Partial<Config>

/** Used when the app gives no `appId`. Rooms are namespaced by app id: set your own. */
export const defaultAppId = 'trystero-yjs'

export const defaultPeerHelloTimeout = 5000

/** The options split into the provider's own (with defaults) and the strategy's config. */
export interface ResolvedOptions {
  own: Required<Pick<ProviderOwnOptions, 'connect' | 'resyncInterval' | 'peerHelloTimeout' | 'connectionGuard' | 'compactSync' | 'stateSnapshot' | 'broadcastChannel'>> &
  Pick<ProviderOwnOptions<any>, 'joinRoom' | 'joinCallbacks' | 'getRelaySockets' | 'docName' | 'awareness' | 'roomId'>
  limits: Readonly<ProviderLimits>
  /** The private room's secret, if any: the password never reaches Trystero as such. */
  secret: RoomSecret | null
  strategyConfig: TrysteroConfig
}

export const resolveOptions = (options: TrysteroProviderOptions<any>): ResolvedOptions => {
  const {
    joinRoom, joinCallbacks, getRelaySockets, docName, awareness, connect = true, resyncInterval = 0,
    maxMessageBytes, peerHelloTimeout = defaultPeerHelloTimeout, limits, connectionGuard = true,
    password, writeKey, viewKey, roomId, compactSync: compactSyncOption, stateSnapshot = true, broadcastChannel = defaultBroadcastChannel(), ...strategyConfig
  } = options
  const secrets = [password === undefined ? null : { password }, writeKey === undefined ? null : { writeKey }, viewKey === undefined ? null : { viewKey }]
    .filter((secret) => secret !== null)
  if (secrets.length > 1) throw new TrysteroYjsError('give one of password, writeKey and viewKey, not several')
  if (password === '') throw new TrysteroYjsError('options.password is empty: leave it out for an open room')
  let resolvedLimits: Readonly<ProviderLimits>
  try {
    resolvedLimits = resolveLimits({ ...limits, ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }) })
  } catch (error) {
    throw new TrysteroYjsError(`options.limits: ${(error as Error).message}`)
  }
  // Without the streams there is nothing to compress or inflate with, whatever was asked.
  const compactSync = compactSyncOption !== false && compressionAvailable()
  return {
    own: { joinRoom, joinCallbacks, getRelaySockets, docName, awareness, connect, resyncInterval, peerHelloTimeout, connectionGuard, roomId, compactSync, stateSnapshot, broadcastChannel },
    limits: resolvedLimits,
    secret: secrets[0] ?? null,
    strategyConfig: { appId: defaultAppId, ...strategyConfig } as TrysteroConfig
  }
}

/** Browsers have tabs; a Node process has providers that must talk over the network (see the option). */
const defaultBroadcastChannel = (): boolean =>
  broadcastChannelAvailable() && typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node !== 'string'

/** The room's BroadcastChannel name (PROTOCOL.md §7), or `null`: off, or no room id to name it by. */
export const tabChannelOf = (options: ResolvedOptions, roomId: string | null): string | null => {
  const id = roomId ?? options.own.roomId
  return options.own.broadcastChannel && id !== undefined ? tabChannelName(options.strategyConfig.appId, id) : null
}

export const loadDefaultJoinRoom = async (): Promise<JoinRoom<any>> => {
  try {
    const trystero: { joinRoom: JoinRoom<any> } = await import('trystero')
    return trystero.joinRoom
  } catch (error) {
    throw new TrysteroYjsError(
      'no Trystero strategy: pass options.joinRoom (e.g. from @trystero-p2p/mqtt) or install "trystero" for Nostr', { cause: error })
  }
}

/**
 * The config the provider joins a room with: the app's strategy config, with Trystero's password
 * derived from the room's keys (viewers must be able to derive it too), and the app's
 * RTCPeerConnection (or the platform's) under the connection guard, so that no peer's frame can
 * crash the process or make Trystero hold memory without limit (src/guard/), and releasing the
 * connections that end (src/release-closed-connections.ts).
 */
export const joinConfig = (options: ResolvedOptions, credentials: RoomCredentials | null): TrysteroConfig => {
  const config: TrysteroConfig = { ...options.strategyConfig }
  if (credentials !== null) config.password = credentials.signalingPassword
  const base = (config.rtcPolyfill ?? (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection) as PeerConnectionClass | undefined
  // Without any RTCPeerConnection here, Trystero reports the problem itself when it needs one.
  if (typeof base !== 'function') return config
  const guarded = options.own.connectionGuard
    ? guardRtcPolyfill(base, {
      maxMessageBytes: options.limits.maxMessageBytes,
      maxHeldBytes: options.limits.maxHeldBytes,
      ...(options.own.joinCallbacks?.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.own.joinCallbacks.handshakeTimeoutMs })
    })
    : base
  config.rtcPolyfill = releaseClosedConnections(guarded)
  return config
}
