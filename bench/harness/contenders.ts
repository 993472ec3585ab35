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
  /** trystero-yjs only: `false` speaks only what version 1 peers speak (no compact sync). */
  compactSync?: boolean
  /** trystero-yjs only: `false` answers every new peer with a freshly encoded state (no snapshot kept). */
  stateSnapshot?: boolean
  /** trystero-yjs only: another build to run (bench/harness/build-at.ts). */
  build?: string
}

export const ours: Contender = { provider: 'trystero-yjs', rtc: 'node-datachannel', label: 'trystero-yjs' }
/** Ours as before compact sync (and as it talks to a version 1 peer): y-protocols V1 messages only. */
export const oursV1: Contender = { provider: 'trystero-yjs', rtc: 'node-datachannel', label: 'trystero-yjs, compactSync: false', compactSync: false }
/** Ours without the whole-state snapshot: the holder encodes the state when the new peer asks (as before). */
export const oursNoSnapshot: Contender = { provider: 'trystero-yjs', rtc: 'node-datachannel', label: 'trystero-yjs, stateSnapshot: false', stateSnapshot: false }
/**
 * How long a holder is left alone between joining and a new peer's arrival in the initial-sync
 * scenarios: what a page is while its link is being shared, and more than the 1 s of quiet after
 * which a provider keeps its state encoded (stateSnapshot). The snapshot is not reported by the
 * provider, so this is a wait, not an event.
 */
export const holderIdleMs = 1500

/** Resolves once `holderIdleMs` have passed since `since` (a `performance.now()` when the holder had joined). */
export const holderIdle = async (since: number): Promise<void> => {
  const left = holderIdleMs - (performance.now() - since)
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left))
}
/** Ours as built at another commit ("today", before the change under test). */
export const oursAt = (build: { entry: string, commit: string }, name: string): Contender =>
  ({ provider: 'trystero-yjs', rtc: 'node-datachannel', label: `trystero-yjs ${name} (${build.commit.slice(0, 7)})`, build: build.entry })
/** A floor on Trystero, not a provider: the state pushed at join on one action, applied unchecked (see ProviderKind). */
export const trysteroPush: Contender = { provider: 'trystero-push', rtc: 'node-datachannel', label: 'floor on Trystero (state pushed at join)' }
export const yWebrtc: Contender = { provider: 'y-webrtc', rtc: 'node-datachannel', label: 'y-webrtc' }
export const yWebrtcOnWrtc: Contender = { provider: 'y-webrtc', rtc: 'wrtc', label: 'y-webrtc on @roamhq/wrtc (baseline stack)' }
