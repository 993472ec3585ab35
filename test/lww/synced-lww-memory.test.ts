/** The synced LWW types over the in-memory network: convergence, joiners, bytes, shared rooms. */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider, TrysteroYjsError, docChannelKey } from '../../src/index.js'
import { DeltaSyncedLWWMap, SyncedLWWMap, SyncedLWWRegister } from '../../src/lww/index.js'
import { channelKey } from '../../src/channel-key.js'
import { encodeLwwMessage } from '../../src/lww/lww-wire.js'
import { MemoryNetwork } from '../../src/testing/index.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

const appId = 'lww-test'

describe('synced LWW types over the memory network', () => {
  let network = new MemoryNetwork()
  const closers: Array<{ destroy: () => unknown }> = []
  const join = (): TrysteroRoom => network.createPeer().joinRoom({ appId }, 'room')
  const track = <T extends { destroy: () => unknown }>(x: T): T => { closers.push(x); return x }
  afterEach(async () => {
    for (const closer of closers.splice(0)) await closer.destroy()
    network = new MemoryNetwork()
  })

  it('SyncedLWWRegister: writes reach every peer, and a late joiner gets the state', async () => {
    const [a, b] = [track(new SyncedLWWRegister<string>(join(), 'title', { writerId: 'A' })), track(new SyncedLWWRegister<string>(join(), 'title', { writerId: 'B' }))]
    await until('A and B see each other', () => a.peers.length === 1 && b.peers.length === 1, [on(a, 'peers'), on(b, 'peers')])
    a.write('first')
    await until('B has it', () => b.read() === 'first', [on(b, 'change')])
    b.write('second')
    await until('A has it', () => a.read() === 'second', [on(a, 'change')])
    const late = track(new SyncedLWWRegister<string>(join(), 'title', { writerId: 'C' }))
    await until('the late joiner has it', () => late.read() === 'second', [on(late, 'change')])
  })

  it('SyncedLWWRegister emits change events: local on a write, the peer id on a merge that changed it', async () => {
    const [a, b] = [track(new SyncedLWWRegister<string>(join(), 'r')), track(new SyncedLWWRegister<string>(join(), 'r'))]
    await until('connected', () => a.peers.length === 1 && b.peers.length === 1, [on(a, 'peers'), on(b, 'peers')])
    const local = nextEvent<[{ keys: string[], origin: string }]>(a, 'change')
    const remote = nextEvent<[{ keys: string[], origin: string }]>(b, 'change')
    a.write('hello')
    expect((await local)[0]).toEqual({ keys: [], origin: 'local' })
    expect((await remote)[0]).toEqual({ keys: [], origin: Object.keys(b.room.getPeers())[0] })
  })

  it('sends nothing and emits nothing for a write that loses at once (a wall clock behind)', async () => {
    const { WallClock } = await import('../../src/lww/index.js')
    const fast = track(new DeltaSyncedLWWMap<string>(join(), 'm', { writerId: 'B', clock: new WallClock({ skewMs: 60_000 }) }))
    const behind = track(new DeltaSyncedLWWMap<string>(join(), 'm', { writerId: 'A', clock: new WallClock() }))
    await until('connected', () => fast.peers.length === 1 && behind.peers.length === 1, [on(fast, 'peers'), on(behind, 'peers')])
    fast.set('color', 'blue')
    await until('A has blue', () => behind.get('color') === 'blue', [on(behind, 'change')])
    const sent = behind.traffic.messagesSent
    let changes = 0
    behind.on('change', () => changes++)
    behind.set('color', 'red')
    expect(behind.get('color')).toBe('blue')
    expect(behind.traffic.messagesSent).toBe(sent)
    expect(changes).toBe(0)
  })

  it('emits change events with the origin', async () => {
    const [a, b] = [track(new DeltaSyncedLWWMap<number>(join(), 'm')), track(new DeltaSyncedLWWMap<number>(join(), 'm'))]
    await until('connected', () => a.peers.length === 1, [on(a, 'peers')])
    const local = nextEvent<[{ keys: string[], origin: string }]>(a, 'change')
    const remote = nextEvent<[{ keys: string[], origin: string }]>(b, 'change')
    a.set('x', 1)
    expect((await local)[0]).toEqual({ keys: ['x'], origin: 'local' })
    const [{ keys, origin }] = await remote
    expect(keys).toEqual(['x'])
    expect(origin).toBe(Object.keys(b.room.getPeers())[0])
  })

  for (const Map of [SyncedLWWMap, DeltaSyncedLWWMap]) {
    it(`${Map.name}: concurrent writes and deletes on 3 peers converge`, async () => {
      const maps = [0, 1, 2].map((i) => track(new Map<number>(join(), 'shared', { writerId: `W${i}` })))
      await until('full mesh', () => maps.every((m) => m.peers.length === 2), maps.map((m) => on(m, 'peers')))
      maps.forEach((m, i) => {
        m.set('same', i)
        m.set(`own${i}`, i)
        if (i === 2) m.delete('own0')
      })
      const snapshot = (): string[] => maps.map((m) => JSON.stringify(m.entries().sort()))
      await until('converged', () => new Set(snapshot()).size === 1, maps.map((m) => on(m, 'change')))
      expect(maps[0]!.keys().sort()).toContain('same')
    })
  }

  it('delta sync sends far fewer bytes than state sync for one change to a 1,000-key map', async () => {
    const measure = async (MapType: typeof SyncedLWWMap | typeof DeltaSyncedLWWMap): Promise<number> => {
      const [a, b] = [track(new MapType<number>(join(), `big-${MapType.name}`)), track(new MapType<number>(join(), `big-${MapType.name}`))]
      for (let i = 0; i < 1000; i++) a.map.set(`key${i}`, i)
      await until('connected and B has the 1,000 keys', () => b.keys().length === 1000, [on(b, 'change'), on(b, 'peers')])
      const before = a.traffic.bytesSent
      a.set('key500', -1)
      await until('B has the change', () => b.get('key500') === -1, [on(b, 'change')])
      return a.traffic.bytesSent - before
    }
    const stateBytes = await measure(SyncedLWWMap)
    const deltaBytes = await measure(DeltaSyncedLWWMap)
    expect(deltaBytes).toBeLessThan(stateBytes / 100)
  })

  it('shares a room with a Yjs document: both sync, on their own channels', async () => {
    const peers = [network.createPeer(), network.createPeer()]
    const providers = peers.map((peer) => track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peer.joinRoom })))
    await Promise.all(providers.map(async (p) => await p.whenSynced()))
    const maps = providers.map((p) => track(new DeltaSyncedLWWMap<string>(p.room!, 'settings')))
    maps[0]!.set('theme', 'dark')
    providers[1]!.doc.getText('t').insert(0, 'doc text')
    await until('map synced', () => maps[1]!.get('theme') === 'dark', [on(maps[1]!, 'change')])
    await converged(providers.map((p) => p.doc), (d) => d.getText('t').toString())
    expect(network.stats.byAction[channelKey('lm', 'settings')]!.messages).toBeGreaterThan(0)
    expect(network.stats.byAction[docChannelKey('')]!.messages).toBeGreaterThan(0)
  })

  it('rejects invalid messages with an error naming the peer, and keeps its state', async () => {
    const room = join()
    const map = track(new DeltaSyncedLWWMap<string>(room, 'm'))
    map.set('k', 'kept')
    const hostile = network.createPeer().joinRoom({ appId }, 'room')
    const action = hostile.makeAction(channelKey('lm', 'm'))
    const target = await new Promise<string>((resolve) => { hostile.onPeerJoin = resolve })
    const errors: TrysteroYjsError[] = []
    map.on('error', (e: TrysteroYjsError) => errors.push(e))
    const bad = [
      Uint8Array.of(1, 3, 0x7b, 0x7b, 0x7b),
      encodeLwwMessage('delta', { type: 'lww-map', format: 1, entries: { k: { stamp: [9e15, 0, 'X'], value: () => 1 } } }),
      encodeLwwMessage('delta', { type: 'lww-register', format: 1, entry: null }),
      encodeLwwMessage('state', { type: 'lww-map', format: 1, entries: { k: { stamp: [9e15, 0, 'X'], value: 'evil' }, j: { stamp: 'no' } } }),
      Uint8Array.of(9, 0)
    ]
    for (const bytes of bad) void action.send(bytes, { target })
    await until('5 errors', () => errors.length === 5, [on(map, 'error')])
    expect(map.get('k')).toBe('kept')
    expect(errors.every((e) => e.peerId === Object.keys(room.getPeers())[0])).toBe(true)
    expect(network.handlerErrors).toEqual([])
  })
})
