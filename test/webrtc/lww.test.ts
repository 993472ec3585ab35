/** SyncedLWWRegister and DeltaSyncedLWWMap between real peers (node-datachannel, local MQTT broker). */
import { describe, expect, it } from 'vitest'
import { DeltaSyncedLWWMap, SyncedLWWMap, SyncedLWWRegister } from '../../src/lww/index.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import { on, until } from '../support/wait.js'
import { useWebRtcFixture } from '../support/webrtc-fixture.js'

const deadlineMs = 45_000

describe('synced LWW types over real WebRTC (mqtt)', () => {
  const fixture = useWebRtcFixture('mqtt')

  const joinRooms = async (n: number): Promise<TrysteroRoom[]> => {
    const roomId = fixture.roomId('lww')
    const joined: TrysteroRoom[] = []
    for (let i = 0; i < n; i++) {
      const peer = await fixture.peer()
      joined.push(fixture.room(peer.joinRoom(peer.config, roomId)))
    }
    return joined
  }

  it('SyncedLWWRegister converges between 3 peers, a late writer included', async () => {
    const registers = (await joinRooms(3)).map((room, i) => new SyncedLWWRegister<string>(room, 'title', { writerId: `W${i}` }))
    await until('a full mesh', () => registers.every((r) => r.peers.length === 2), registers.map((r) => on(r, 'peers')), deadlineMs)
    registers[0]!.write('from 0')
    registers[2]!.write('from 2, later')
    await until('all read the later write', () => registers.every((r) => r.read() === 'from 2, later'), registers.map((r) => on(r, 'change')), deadlineMs)
  })

  it('DeltaSyncedLWWMap converges, and one change to a 1,000-key map costs far fewer bytes than with SyncedLWWMap', async () => {
    const [roomA, roomB] = await joinRooms(2)
    const delta = [new DeltaSyncedLWWMap<number>(roomA!, 'delta'), new DeltaSyncedLWWMap<number>(roomB!, 'delta')] as const
    const state = [new SyncedLWWMap<number>(roomA!, 'state'), new SyncedLWWMap<number>(roomB!, 'state')] as const
    for (const [a] of [delta, state]) for (let i = 0; i < 1000; i++) a.map.set(`key${i}`, i)
    await until('B has both 1,000-key maps', () => delta[1].keys().length === 1000 && state[1].keys().length === 1000,
      [on(delta[1], 'change'), on(state[1], 'change')], deadlineMs)
    const sentBefore = [delta[0].traffic.bytesSent, state[0].traffic.bytesSent]
    delta[0].set('key1', -1)
    state[0].set('key1', -1)
    delta[1].delete('key2')
    await until('the changes arrived', () => delta[1].get('key1') === -1 && state[1].get('key1') === -1 && !delta[0].has('key2'),
      [on(delta[1], 'change'), on(state[1], 'change'), on(delta[0], 'change')], deadlineMs)
    const deltaBytes = delta[0].traffic.bytesSent - sentBefore[0]!
    const stateBytes = state[0].traffic.bytesSent - sentBefore[1]!
    expect(deltaBytes).toBeGreaterThan(0)
    expect(deltaBytes * 100).toBeLessThan(stateBytes)
    expect(JSON.stringify(delta[0].entries().sort())).toBe(JSON.stringify(delta[1].entries().sort()))
  })
})
