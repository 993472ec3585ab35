/**
 * Which Trystero action names this process has a handler for. Trystero keeps every message for an
 * action nobody made (action-wire.mjs `pendingActionPayloads`) until someone makes it, without
 * limit; the guard holds such frames itself, within a budget, and hands them to Trystero once
 * their name is claimed here.
 *
 * A claim is either process-wide or scoped to one room token (one Trystero room of one appId).
 * Scope claims where you can: a process-wide claim of a name that some joined room never makes
 * lets frames for that name into that room, where Trystero buffers them again.
 */
import { trysteroRoomToken } from './trystero-framing.js'

/** Actions every Trystero 0.25 room makes for itself (room.mjs, actions.mjs). */
export const trysteroInternalActionNames: readonly string[] = [
  '@_ping', '@_pong', '@_signal', '@_stream', '@_track', '@_leave', '@_hsdata', '@_hsready', '@_response'
]

/** Where a claim applies: a room token, or the app and room it is derived from. */
export type ClaimScope = { roomToken: string } | { appId: string, roomId: string }

const internal = new Set(trysteroInternalActionNames)
/** Claim counts: process-wide by name, and by `${roomToken}\0${name}`. */
const global = new Map<string, number>()
const scoped = new Map<string, number>()
const listeners = new Set<() => void>()

const scopedKey = (roomToken: string, name: string): string => `${roomToken}\u0000${name}`

const count = (map: Map<string, number>, key: string, delta: number): void => {
  const next = (map.get(key) ?? 0) + delta
  if (next <= 0) map.delete(key)
  else map.set(key, next)
}

const notify = (): void => {
  for (const listener of [...listeners]) listener()
}

/**
 * Declares that this process handles `names` (everywhere, or in one room). Returns the release;
 * claims are counted, so two claimers of one name each release their own. Claim a name as soon
 * as the action exists (`room.makeAction`), and release it when the room is left.
 */
export const claimActionNames = (names: Iterable<string>, scope?: ClaimScope): (() => void) => {
  const list = [...names]
  let released = false
  let applied: { map: Map<string, number>, keys: string[] } | null = null
  const apply = (map: Map<string, number>, keys: string[]): void => {
    if (released) return
    for (const key of keys) count(map, key, 1)
    applied = { map, keys }
    notify()
  }
  if (scope === undefined) {
    apply(global, list)
  } else if ('roomToken' in scope) {
    apply(scoped, list.map((name) => scopedKey(scope.roomToken, name)))
  } else {
    // WebCrypto digests are asynchronous: until this resolves, the names are not claimed (frames
    // for them wait in the guard, which is the safe side).
    void trysteroRoomToken(scope.appId, scope.roomId).then((token) => apply(scoped, list.map((name) => scopedKey(token, name))))
  }
  return () => {
    if (released) return
    released = true
    const done = applied as { map: Map<string, number>, keys: string[] } | null
    if (done === null) return
    for (const key of done.keys) count(done.map, key, -1)
    notify()
  }
}

/** Whether frames for `name` in the room of `roomToken` may go to Trystero. */
export const isActionNameClaimed = (name: string, roomToken: string): boolean =>
  internal.has(name) || global.has(name) || scoped.has(scopedKey(roomToken, name))

/** Calls `listener` after every claim and release (the guard replays frames it held). */
export const onClaimsChanged = (listener: () => void): (() => void) => {
  listeners.add(listener)
  return () => { listeners.delete(listener) }
}
