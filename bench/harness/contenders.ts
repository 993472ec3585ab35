/**
 * Who runs on what. Both providers run on node-datachannel, as the issue asks. y-webrtc's
 * simple-peer assigns to `offer.sdp`, which the polyfill's descriptions do not allow, so the
 * harness hands it plain-object descriptions (peer-process.ts); y-webrtc itself is untouched.
 * y-webrtc on @roamhq/wrtc, the stack of the y-webrtc baseline (README, "Against the y-webrtc
 * baseline"), is kept as a reference in the mesh table, to tie this run to those figures.
 */
import type { ProviderKind, RtcImplementation } from './protocol.js'

export interface Contender {
  provider: ProviderKind
  rtc: RtcImplementation
  label: string
}

export const ours: Contender = { provider: 'trystero-yjs', rtc: 'node-datachannel', label: 'trystero-yjs' }
export const yWebrtc: Contender = { provider: 'y-webrtc', rtc: 'node-datachannel', label: 'y-webrtc' }
export const yWebrtcOnWrtc: Contender = { provider: 'y-webrtc', rtc: 'wrtc', label: 'y-webrtc on @roamhq/wrtc (baseline stack)' }
