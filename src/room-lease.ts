/**
 * Rooms that trystero-yjs joins itself (the provider was given a room id, not a room).
 *
 * Trystero returns the same room object for the same strategy, app id and room id until it is
 * left, and `leave()` takes about 100 ms to finish. So providers that share a room share one
 * lease on it, the last one out leaves, and a join that arrives while a leave is under way waits
 * for it — otherwise it would be handed the room that is being torn down (this is why y-webrtc
 * throws "room already exists" when a provider is recreated).
 */
import { withReleasedConnections } from './release-closed-connections.js'
import type { JoinRoom, JoinRoomCallbacks, TrysteroConfig, TrysteroRoom } from './room-types.js'

interface LeaseEntry {
  room: TrysteroRoom | null
  holders: number
  /** The join or leave under way; the next acquire waits for it. */
  busy: Promise<unknown>
}

export interface RoomLease {
  readonly room: TrysteroRoom
  /** Gives the lease back; the room is left when nobody else holds it. Idempotent. */
  release: () => Promise<void>
}

const leases = new WeakMap<JoinRoom<any>, Map<string, LeaseEntry>>()

export const acquireRoom = async <Config extends TrysteroConfig>(
  joinRoom: JoinRoom<Config>,
  config: Config,
  roomId: string,
  callbacks?: JoinRoomCallbacks
): Promise<RoomLease> => {
  const byKey = leases.get(joinRoom) ?? new Map<string, LeaseEntry>()
  leases.set(joinRoom, byKey)
  const key = `${config.appId}\u0000${roomId}`
  let entry = byKey.get(key)
  if (!entry) {
    entry = { room: null, holders: 0, busy: Promise.resolve() }
    byKey.set(key, entry)
  }
  entry.holders++
  const current = entry
  const joined = current.busy.then(() => {
    current.room ??= joinRoom(withReleasedConnections(config), roomId, callbacks)
    return current.room
  })
  current.busy = joined.catch(() => undefined)
  let room: TrysteroRoom
  try {
    room = await joined
  } catch (error) {
    current.holders--
    if (current.holders === 0 && byKey.get(key) === current) byKey.delete(key)
    throw error
  }
  let released = false
  return {
    room,
    release: async () => {
      if (released) return
      released = true
      current.holders--
      if (current.holders > 0) return
      const leaving = current.busy.then(async () => {
        // Someone acquired and released again meanwhile, or acquired and still holds it.
        if (current.holders > 0 || current.room !== room) return
        current.room = null
        await room.leave()
      })
      current.busy = leaving.catch(() => undefined)
      await leaving
      if (current.holders === 0 && current.room === null && byKey.get(key) === current) byKey.delete(key)
    }
  }
}
