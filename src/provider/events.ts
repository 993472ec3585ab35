/**
 * The provider's events, apart from the class so that the lifecycle file reads as a lifecycle.
 */
import type { TrysteroYjsError } from '../errors.js'
import type { SignalingStatus } from '../signaling-status.js'
import { isTabPeer } from '../room/tab-peers.js'

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

/** The `peers` event: this browser's tabs (`tab:…`, over the BroadcastChannel) are `bcPeers`, the others `webrtcPeers`, as in y-webrtc. */
export const peersEvent = (added: string[], removed: string[], peers: string[]): Parameters<TrysteroProviderEvents['peers']>[0] =>
  ({ added, removed, peers, webrtcPeers: peers.filter((id) => !isTabPeer(id)), bcPeers: peers.filter(isTabPeer) })
