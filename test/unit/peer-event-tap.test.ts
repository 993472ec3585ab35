/** The tap on a Trystero-like room object: shares the one-handler slots and leaves only once. */
import { describe, expect, it } from 'vitest'
import { tapPeerEvents, type RoomEventListener } from '../../src/peer-event-tap.js'
import type { TrysteroRoom } from '../../src/room-types.js'

/** A room object shaped like Trystero's: accessor properties, replay on assignment. */
const fakeRoom = () => {
  const connected = ['p1']
  let join: ((id: string) => void) | null = null
  let leave: ((id: string) => void) | null = null
  const calls = { leave: 0, failures: 0 }
  const room = {
    makeAction: () => { throw new Error('unused') },
    getPeers: () => Object.fromEntries(connected.map((id) => [id, {}])),
    leave: async () => {
      calls.leave++
      // Like Trystero's leave when a peer's data channel closed a moment ago.
      if (calls.failures > 0) {
        calls.failures--
        throw new Error('DataChannel is closed')
      }
    },
    get onPeerJoin () { return join },
    set onPeerJoin (h: ((id: string) => void) | null) { join = h; if (h) connected.forEach(h) },
    get onPeerLeave () { return leave },
    set onPeerLeave (h: ((id: string) => void) | null) { leave = h }
  }
  return { room: room as unknown as TrysteroRoom, fire: { join: (id: string) => join?.(id), leave: (id: string) => leave?.(id) }, calls }
}

const recorder = () => {
  const events: string[] = []
  const listener: RoomEventListener = {
    peerJoined: (id) => events.push(`join ${id}`),
    peerLeft: (id) => events.push(`leave ${id}`),
    roomLeft: () => events.push('room left')
  }
  return { events, listener }
}

describe('tapPeerEvents', () => {
  it("keeps the app's handlers, with Trystero's replay, beside ours", () => {
    const { room, fire } = fakeRoom()
    const app: string[] = []
    room.onPeerJoin = (id) => app.push(`app join ${id}`)
    expect(app).toEqual(['app join p1'])
    const ours = recorder()
    tapPeerEvents(room, (e) => { throw e }).listen(ours.listener)
    expect(app).toEqual(['app join p1'])
    fire.join('p2')
    expect(app).toEqual(['app join p1', 'app join p2'])
    expect(ours.events).toEqual(['join p2'])
    room.onPeerJoin = (id) => app.push(`new handler ${id}`)
    expect(app.at(-1)).toBe('new handler p1')
    fire.join('p3')
    expect(ours.events).toEqual(['join p2', 'join p3'])
    room.onPeerLeave = (id) => app.push(`app leave ${id}`)
    fire.leave('p3')
    expect(ours.events.at(-1)).toBe('leave p3')
    expect(app.at(-1)).toBe('app leave p3')
  })

  it('reports its own failures without keeping the app from its event', () => {
    const { room, fire } = fakeRoom()
    const reported: unknown[] = []
    const app: string[] = []
    room.onPeerJoin = (id) => app.push(id)
    tapPeerEvents(room, (e) => reported.push(e)).listen({ peerJoined: () => { throw new Error('ours') }, peerLeft: () => {}, roomLeft: () => {} })
    fire.join('p2')
    expect(reported).toHaveLength(1)
    expect(app).toEqual(['p1', 'p2'])
  })

  it('runs Trystero leave() once, however often it is called', async () => {
    const { room, calls } = fakeRoom()
    const ours = recorder()
    tapPeerEvents(room, (e) => { throw e }).listen(ours.listener)
    await Promise.all([room.leave(), room.leave()])
    await room.leave()
    expect(calls.leave).toBe(1)
    expect(ours.events).toEqual(['room left'])
  })

  it('tries a leave again that failed on a channel closed a moment ago, and gives up after a few tries', async () => {
    const { room, calls } = fakeRoom()
    tapPeerEvents(room, () => {}).listen(recorder().listener)
    calls.failures = 2
    await room.leave()
    expect(calls.leave).toBe(3)
    const other = fakeRoom()
    tapPeerEvents(other.room, () => {}).listen(recorder().listener)
    other.calls.failures = 100
    await expect(other.room.leave()).rejects.toThrow(/DataChannel is closed/)
    expect(other.calls.leave).toBe(5)
  })
})
