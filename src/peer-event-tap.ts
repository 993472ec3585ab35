/**
 * Trystero gives a room one handler per event (`room.onPeerJoin = fn`): a provider that assigned
 * its own would silently unplug the app's, and the app's next assignment would unplug the
 * provider. The tap takes the slot once per room object and shares it: the app keeps reading and
 * assigning `room.onPeerJoin` / `room.onPeerLeave` exactly as before (including Trystero's replay
 * of connected peers to a newly assigned join handler), and trystero-yjs listens beside it.
 *
 * It also wraps `room.leave()`, because Trystero's leave does not fire `onPeerLeave`.
 */
import type { TrysteroRoom } from './room-types.js'

export interface RoomEventListener {
  peerJoined: (peerId: string) => void
  peerLeft: (peerId: string) => void
  /** The room is being left (by the app or by us): every peer is gone. */
  roomLeft: () => void
  /** An action was made on the room (by the app or by us), under this name. */
  actionMade?: (name: string) => void
}

export interface PeerEventTap {
  /** Our single listener; `null` to stop listening. The app's handlers are not affected. */
  listen: (listener: RoomEventListener | null) => void
}

const taps = new WeakMap<TrysteroRoom, PeerEventTap>()

/** Installs the tap on first use; later calls return the same one. */
export const tapPeerEvents = (room: TrysteroRoom, onInternalError: (error: unknown) => void): PeerEventTap => {
  const existing = taps.get(room)
  if (existing) return existing
  const tap = installTap(room, onInternalError)
  taps.set(room, tap)
  return tap
}

const installTap = (room: TrysteroRoom, onInternalError: (error: unknown) => void): PeerEventTap => {
  let listener: RoomEventListener | null = null
  let appJoin = room.onPeerJoin
  let appLeave = room.onPeerLeave
  let installing = true
  // Our listener runs first and may not break the app's: its exceptions are reported, not thrown.
  const internal = (f: (l: RoomEventListener) => void): void => {
    if (listener === null) return
    try {
      f(listener)
    } catch (error) {
      onInternalError(error)
    }
  }

  // Trystero replays connected peers to the handler being assigned; the app saw them already.
  room.onPeerJoin = (peerId) => {
    if (installing) return
    internal(l => l.peerJoined(peerId))
    appJoin?.(peerId)
  }
  room.onPeerLeave = (peerId) => {
    internal(l => l.peerLeft(peerId))
    appLeave?.(peerId)
  }
  installing = false

  const leave = room.leave
  const makeAction = room.makeAction
  const redefine = (): void => {
    // So that the connection guard lets the app's own actions through (src/guard/action-claims.ts).
    Object.defineProperty(room, 'makeAction', {
      configurable: true,
      enumerable: true,
      writable: true,
      value: (name: string, ...rest: unknown[]) => {
        const action = (makeAction as (...args: unknown[]) => ReturnType<TrysteroRoom['makeAction']>).call(room, name, ...rest)
        internal(l => l.actionMade?.(name))
        return action
      }
    })
    Object.defineProperty(room, 'onPeerJoin', {
      configurable: true,
      enumerable: true,
      get: () => appJoin,
      set: (handler: ((peerId: string) => void) | null) => {
        appJoin = handler
        if (handler) for (const peerId of Object.keys(room.getPeers())) handler(peerId)
      }
    })
    Object.defineProperty(room, 'onPeerLeave', {
      configurable: true,
      enumerable: true,
      get: () => appLeave,
      set: (handler: ((peerId: string) => void) | null) => { appLeave = handler }
    })
    // Once: a second Trystero leave() would run its cleanup again, and could unregister a
    // room joined anew under the same id meanwhile.
    let leaving: Promise<void> | null = null
    Object.defineProperty(room, 'leave', {
      configurable: true,
      enumerable: true,
      writable: true,
      value: async () => {
        if (leaving === null) {
          internal(l => l.roomLeft())
          leaving = leaveDespiteClosedChannels(room, leave)
        }
        await leaving
      }
    })
  }
  try {
    redefine()
  } catch (error) {
    // A frozen room: we stay chained in front of the app's handlers as they were when we came.
    onInternalError(error)
  }
  return { listen: (l) => { listener = l } }
}

/**
 * Trystero's `leave()` first tells every peer, and a data channel that closed a moment ago (its
 * peer crashed, or we closed a peer we refused) throws on send before Trystero has processed the
 * close: `leave()` then rejects at its first line, and never runs its cleanup (the room would stay
 * registered, and joining it again would hand back the dead room). Such a leave is tried again
 * once the close has been processed, which takes a few event-loop turns.
 */
const leaveDespiteClosedChannels = async (room: TrysteroRoom, leave: () => Promise<void>): Promise<void> => {
  const retryDelaysMs = [0, 50, 250, 1000]
  for (let attempt = 0; ; attempt++) {
    try {
      await leave.call(room)
      return
    } catch (error) {
      const delay = retryDelaysMs[attempt]
      if (delay === undefined) throw error
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}
