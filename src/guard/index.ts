/**
 * A connection guard under Trystero: no frame from a peer crashes the process or makes Trystero
 * buffer without limit. See guard-polyfill.ts for wiring, connection-guard.ts for the limits.
 */
export { guardRtcPolyfill, connectionGuard, type PeerConnectionClass } from './guard-polyfill.js'
export {
  ConnectionGuard,
  GuardViolation,
  frameOverheadBytes,
  type ConnectionGuardOptions,
  type ConnectionGuardEvents,
  type GuardActivity,
  type GuardViolationDetails,
  type RateLimit,
  type ViolationKind
} from './connection-guard.js'
export { claimActionNames, isActionNameClaimed, trysteroInternalActionNames, type ClaimScope } from './action-claims.js'
export { trysteroRoomToken } from './trystero-framing.js'
