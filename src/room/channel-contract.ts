/**
 * The contract between a room's hub (src/room-hub.ts) and the channels opened on it: what a
 * channel's owner hears (`ChannelMember`), what it may ask (`ChannelHandle`), and how a hub is
 * configured (`RoomHubOptions`). Kept apart so that a provider's modules depend on this small
 * interface, not on the hub.
 */
import type { RoomCredentials, RoomRole } from '../admission/room-keys.js'
import type { TrysteroYjsError } from '../errors.js'
import type { ClaimScope } from '../guard/index.js'
import type { ProviderLimits } from '../limits.js'
import type { TrysteroRoom } from '../room-types.js'

/** What a channel's owner (a provider) hears from the hub. */
export interface ChannelMember {
  /**
   * `peerId` has this channel open (announced in HELLO or OPEN). `stateVector`: the one its HELLO
   * or OPEN carried, when both it and we set compactSync (PROTOCOL.md §3.3): its step 1, early.
   */
  peerOpened: (peerId: string, stateVector?: Uint8Array) => void
  /** Our state vector of this channel, for HELLO and OPEN with compactSync (documents only). */
  stateVector?: () => Uint8Array
  /** `peerId` closed this channel or left the room. */
  peerClosed: (peerId: string) => void
  /** The number of peers whose channel list is not known yet changed. */
  pendingChanged: () => void
  /** A Trystero message arrived on this channel's action (not validated). */
  message: (data: unknown, peerId: string) => void
  /** A chunk of a message from an admitted peer arrived on this channel's action, not its last: more is on its way. */
  progress?: (peerId: string) => void
  /** The room was left under us (`room.leave()`); the handle is dead. */
  roomLeft: () => void
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

/** A member's connection to the hub. */
export interface ChannelHandle {
  readonly room: TrysteroRoom
  /** Our role in the room: `writer`, or `viewer` with a view key only (PROTOCOL.md §5). */
  readonly ownRole: RoomRole
  /** Peers that announced this channel open so far; later ones arrive as `peerOpened`. */
  openPeers: () => string[]
  /** A connected peer that proved the room's keys (every connected peer, in an open room). */
  isAdmitted: (peerId: string) => boolean
  /**
   * We disconnected the peer (a limit, a violation) and it is still listed: asked as it is closed
   * for our channels, so that what it sent that still waits with us is dropped with it.
   */
  refused: (peerId: string) => boolean
  /** An admitted peer's role; `null` for a peer that is not admitted. */
  roleOf: (peerId: string) => RoomRole | null
  /** Peers in the room whose HELLO has not arrived yet: they may have this channel open. */
  pendingPeerCount: () => number
  /** When we last heard anything from a peer (a message, a chunk of one, a PONG), or `null`. */
  lastHeard: (peerId: string) => number | null
  /** Reports `error` to every member of the room, then closes the peer's connection. */
  disconnect: (peerId: string, error: TrysteroYjsError) => void
  /** Both we and the peer set `compactSync` in HELLO: it may be sent COMPACT messages (PROTOCOL.md §3.7). */
  compactSync: (peerId: string) => boolean
  /** We set `compactSync`: COMPACT messages are accepted (from any peer: setting the bit costs nothing). */
  readonly acceptsCompact: boolean
  /**
   * Counts `bytes` the peer makes us process beyond its message (an inflated update), and
   * `messages` more messages (default 0), against its rates, as if it had sent them; a peer over
   * one is disconnected, and `false` returned.
   */
  charge: (peerId: string, bytes: number, messageType: string, messages?: number) => boolean
  /**
   * Sends to the given admitted peers; errors are reported to the member. Resolves when the
   * message is handed to every data channel (after Trystero's backpressure), never rejects.
   */
  send: (data: Uint8Array, targets: readonly string[]) => Promise<void>
  /** Announces CLOSE and stops delivery. The room itself is not left here. */
  detach: () => void
}

export interface RoomHubOptions {
  /** How long a connected peer may stay silent before we assume it has no channel open. */
  peerHelloTimeout: number
  /** Rates and heartbeat (PROTOCOL.md §2.3, §6). Default `defaultLimits`. */
  limits?: Readonly<ProviderLimits>
  /**
   * The app and room id the room was joined with, when known: the connection guard then lets our
   * actions through in this room only. Without it, our action names are claimed process-wide.
   */
  claimScope?: ClaimScope
  /**
   * `false`: a connection guard's violations are left to whoever installed the guard (the
   * provider's `connectionGuard: false`). Default: the peer is reported and disconnected.
   */
  actOnGuard?: boolean
  /**
   * The keys of a private room: peers must prove them before anything is sent to them or taken
   * from them. `undefined`: whatever the room's hub already has (an open room if it has none).
   */
  credentials?: RoomCredentials | null
  /**
   * Announce `compactSync` in HELLO (PROTOCOL.md §3.7): peers that set it too may send us, and be
   * sent, compact step 2s and updates. Default: when the platform has `deflate-raw` streams. The
   * room's first channel decides (HELLO is sent once per peer).
   */
  compactSync?: boolean
  /**
   * The name of the room's BroadcastChannel (`tabChannelName`), to reach the page's other tabs
   * too (PROTOCOL.md §7), or `null`. Ignored where the platform has no BroadcastChannel. The
   * room's first channel decides.
   */
  broadcastChannel?: string | null
}
