/**
 * The part of Trystero's room API that trystero-yjs uses, stated structurally so that any
 * Trystero 0.25 strategy's room (and the in-memory test room) fits without importing
 * `@trystero-p2p/core` types into the app's build.
 */

/** Trystero's `PeerTarget`: one peer, several, or `null`/absent for every peer in the room. */
export type PeerTarget = string | string[] | null

/** A Trystero action (`room.makeAction(name)`), as far as trystero-yjs uses it. */
export interface TrysteroAction {
  /** Sends binary data to one peer, several, or everyone in the room. */
  send: (data: Uint8Array, options?: { target?: PeerTarget }) => Promise<unknown>
  /** Receives this action's messages, with the sending peer's id. */
  onMessage: ((data: Uint8Array, context: { peerId: string }) => void | Promise<void>) | null
  /** Called for every chunk received of a message (Trystero chunks at 16 KiB). */
  onReceiveProgress?: ((progress: number, context: { peerId: string }) => void) | null
}

/** A joined Trystero room (what a strategy's `joinRoom` returns), as far as trystero-yjs uses it. */
export interface TrysteroRoom {
  /** Creates an action: a named message type (names up to 32 bytes). */
  makeAction: (name: string) => TrysteroAction
  /** Trystero's one handler for a peer joining (replays the peers already connected). */
  onPeerJoin: ((peerId: string) => void) | null
  /** Trystero's one handler for a peer leaving. */
  onPeerLeave: ((peerId: string) => void) | null
  /** The connected peers, by peer id. */
  getPeers: () => Record<string, unknown>
  /** Leaves the room and closes its connections. */
  leave: () => Promise<void>
  /** Round-trip time to a peer, in ms; rejects if the peer is gone. */
  ping?: (peerId: string) => Promise<number>
}

/** Trystero's third `joinRoom` argument. */
export interface JoinRoomCallbacks {
  /** A peer failed the handshake (e.g. a wrong password). Trystero also calls it spuriously during offer glare. */
  onJoinError?: (details: { error: string, appId: string, roomId: string, peerId: string }) => void
  /** Your own handshake with each peer, run before the peer counts as joined. */
  onPeerHandshake?: (...args: any[]) => Promise<void>
  /** How long a handshake may take, in ms. */
  handshakeTimeoutMs?: number
}

/** The config every Trystero strategy accepts (`BaseRoomConfig` plus `relayConfig.urls`). */
export interface TrysteroConfig {
  /** Namespaces rooms: only peers with the same app id meet. */
  appId: string
  /** Encrypts the signaling (session descriptions) and is checked in a handshake with each peer. */
  password?: string
  /** Do not announce: wait to be found by peers that do. */
  passive?: boolean
  /**
   * The signaling relays (`urls`: Nostr relays, MQTT brokers, trackers), how many of the defaults
   * to use (`redundancy`), whether to reconnect by hand, and whether to log relay failures.
   */
  relayConfig?: { urls?: string[], redundancy?: number, manualReconnection?: boolean, warnOnRelayFailure?: boolean }
  /** Send ICE candidates as they come (default) or all in the offer. */
  trickleIce?: boolean
  /** The RTCPeerConnection configuration (ICE servers, …). */
  rtcConfig?: RTCConfiguration
  /** An RTCPeerConnection class to use instead of the global one (Node: node-datachannel's polyfill). */
  rtcPolyfill?: unknown
  /** TURN servers, added to the ICE servers. */
  turnConfig?: Array<{ urls: string | string[], username?: string, credential?: string }>
}

/** A Trystero strategy's `joinRoom` (`@trystero-p2p/nostr`, `/mqtt`, `/torrent`, `/supabase`, custom). */
export type JoinRoom<Config extends { appId: string } = TrysteroConfig> =
  (config: Config, roomId: string, callbacks?: JoinRoomCallbacks) => TrysteroRoom
