/**
 * Who runs on what. The issue asks for the same WebRTC implementation for both, node-datachannel;
 * y-webrtc cannot use it: its simple-peer needs writable session descriptions (shimmed here), and
 * even shimmed, offer glare leaves 5-peer meshes incomplete (0 of 10 full meshes measured here,
 * with "deaf" links). So y-webrtc runs on @roamhq/wrtc, as in ../shared/notes/y-webrtc-baseline.md,
 * and every table says so. (The mesh table also shows y-webrtc on node-datachannel.)
 */
import type { ProviderKind, RtcImplementation } from './protocol.js'

export interface Contender {
  provider: ProviderKind
  rtc: RtcImplementation
  label: string
}

export const ours: Contender = { provider: 'trystero-yjs', rtc: 'node-datachannel', label: 'trystero-yjs (node-datachannel)' }
export const yWebrtc: Contender = { provider: 'y-webrtc', rtc: 'wrtc', label: 'y-webrtc (@roamhq/wrtc)' }
export const yWebrtcOnNodeDatachannel: Contender = { provider: 'y-webrtc', rtc: 'node-datachannel', label: 'y-webrtc (node-datachannel, shimmed)' }
