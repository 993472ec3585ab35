/**
 * The part of Trystero's room API that trystero-yjs uses, stated structurally so that any
 * Trystero 0.25 strategy's room (and the in-memory test room) fits without importing
 * `@trystero-p2p/core` types into the app's build.
 */

/** Trystero's `PeerTarget`: one peer, several, or `null`/absent for every peer in the room. */
export type PeerTarget = string | string[] | null

export interface TrysteroAction {
  send: (data: Uint8Array, options?: { target?: PeerTarget }) => Promise<unknown>
  onMessage: ((data: Uint8Array, context: { peerId: string }) => void | Promise<void>) | null
  /** Called for every chunk received of a message (Trystero chunks at 16 KiB). */
  onReceiveProgress?: ((progress: number, context: { peerId: string }) => void) | null
}

export interface TrysteroRoom {
  makeAction: (name: string) => TrysteroAction
  onPeerJoin: ((peerId: string) => void) | null
  onPeerLeave: ((peerId: string) => void) | null
  getPeers: () => Record<string, unknown>
  leave: () => Promise<void>
  ping?: (peerId: string) => Promise<number>
}

/** Trystero's third `joinRoom` argument. */
export interface JoinRoomCallbacks {
  onJoinError?: (details: { error: string, appId: string, roomId: string, peerId: string }) => void
  onPeerHandshake?: (...args: any[]) => Promise<void>
  handshakeTimeoutMs?: number
}

/** The config every Trystero strategy accepts (`BaseRoomConfig` plus `relayConfig.urls`). */
export interface TrysteroConfig {
  appId: string
  password?: string
  passive?: boolean
  relayConfig?: { urls?: string[], redundancy?: number, manualReconnection?: boolean, warnOnRelayFailure?: boolean }
  trickleIce?: boolean
  rtcConfig?: RTCConfiguration
  rtcPolyfill?: unknown
  turnConfig?: Array<{ urls: string | string[], username?: string, credential?: string }>
}

/** A Trystero strategy's `joinRoom` (`@trystero-p2p/nostr`, `/mqtt`, `/torrent`, `/supabase`, custom). */
export type JoinRoom<Config extends { appId: string } = TrysteroConfig> =
  (config: Config, roomId: string, callbacks?: JoinRoomCallbacks) => TrysteroRoom
