/**
 * What the benchmark's coordinator and its peer processes say to each other over Node's IPC
 * channel. One peer per process, for both providers, so that neither shares an event loop, a
 * WebRTC stack or a Trystero module instance with another peer.
 */
import type { SendAnatomy } from './send-anatomy.js'

/**
 * `trystero-push`: no provider, a floor on Trystero (bench/harness/peer-process.ts): a holder sends
 * its V1 state, encoded ahead, on one Trystero action as soon as a peer joins; the peer applies it
 * unchecked. What any provider on Trystero must spend at least: its handshake, one trip, an apply.
 */
export type ProviderKind = 'trystero-yjs' | 'trystero-push' | 'y-webrtc'
export type RtcImplementation = 'node-datachannel' | 'wrtc'

export interface PeerConfig {
  provider: ProviderKind
  rtc: RtcImplementation
  signalingUrl: string
  room: string
  /** A Yjs update (V1) to load before joining: the document this peer holds. */
  documentFile?: string
  /**
   * Keep a connection whose rooms were all left for Trystero's default 123 s (a prompt rejoin
   * reuses it), instead of closing it at once as every other scenario does.
   */
  keepConnections?: boolean
  /**
   * Split every sent message into its layers (send-anatomy.ts) and count the document's own
   * updates: the wire scenario's breakdown. Off elsewhere, so other scenarios' hot paths are as they were.
   */
  anatomy?: boolean
  /** Record a timeline of channel messages, handlers and transactions (timeline.ts). */
  timeline?: boolean
  /** trystero-yjs only: `false` turns compact sync off (PROTOCOL.md §3.7); default: the provider's default (on). */
  compactSync?: boolean
  /** trystero-yjs only: `false` keeps no whole-state snapshot; default: the provider's default (on). */
  stateSnapshot?: boolean
  /** trystero-yjs only: another build's `dist/index.js` (bench/harness/build-at.ts); default: this checkout's. */
  build?: string
  /** Run the peer in this network namespace (bench/harness/shaped-link.ts); default: the coordinator's. */
  netns?: string
  /** node-datachannel's address for ICE candidates; default 127.0.0.1. */
  bindAddress?: string
  /** Hold every data-channel message this long before handing it to the channel (a link's propagation delay). */
  sendDelayMs?: number
}

export type Command =
  | { type: 'join' }
  /** Resolves when the provider reports synced with this many peers. */
  | { type: 'wait-synced', peers: number, timeoutMs: number }
  /** Resolves when the text has this many characters (a document transfer completed). */
  | { type: 'wait-length', length: number, timeoutMs: number }
  /** Appends `count` characters, one per transaction, `intervalMs` apart (0: back to back). */
  | { type: 'type', count: number, intervalMs: number }
  /** Starts recording when each character after the current text arrives (armed before the writer types). */
  | { type: 'watch' }
  /** Resolves with the arrival times of the `count` characters after the armed point. */
  | { type: 'arrivals', count: number, timeoutMs: number }
  | { type: 'counters' }
  /** The timeline recorded so far (PeerConfig.timeline). */
  | { type: 'timeline' }
  | { type: 'reset-counters' }
  | { type: 'memory' }
  /** `provider.disconnect()`, resolved when it has; the process and its module instances stay. */
  | { type: 'disconnect' }
  /** `provider.connect()` again after a `disconnect`. */
  | { type: 'connect' }
  /** Writes a V8 heap snapshot (after forced GCs) to `path`, for bench/harness/heap-diff.ts. */
  | { type: 'heap-snapshot', path: string }
  | { type: 'leave' }

export interface Counters {
  /** Data-channel messages and bytes this process sent (RTCDataChannel.send, wrapped). */
  dataChannel: { messages: number, bytes: number }
  /** With `PeerConfig.anatomy`: the same sends by layer, and the Yjs updates this peer's own edits made. */
  anatomy?: { sent: SendAnatomy, localUpdates: { count: number, bytes: number } }
}

export interface Timings {
  /** Absolute ms (performance.timeOrigin + now): comparable across processes on one machine. */
  createdAt: number
  /** First data channel open. */
  channelOpenAt: number | null
}

export type Reply =
  | { id: number, ok: true, result: unknown }
  | { id: number, ok: false, error: string }

export interface ReadyMessage { ready: true }

/** High-resolution wall-clock time, the same scale in every process of this machine. */
export const absoluteNow = (): number => performance.timeOrigin + performance.now()
