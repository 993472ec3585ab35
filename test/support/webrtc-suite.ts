/**
 * The provider's behaviour over real WebRTC data channels (node-datachannel on loopback), with
 * real signaling servers on 127.0.0.1. Each strategy's test file runs this same suite.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider, TrysteroYjsError, docChannelKey, type TrysteroProviderOptions, type TrysteroRoom } from '../../src/index.js'
import { hostileFrames } from './hostile-frames.js'
import type { StrategyName, TrysteroPeer } from './trystero-peer.js'
import { useWebRtcFixture } from './webrtc-fixture.js'
import { converged, on, until } from './wait.js'

interface LivePeer {
  peer: TrysteroPeer
  doc: Y.Doc
  provider: TrysteroProvider
}

/** Bounds for a failing test, generous for a loaded 2-core CI machine; not measurements. */
const meshDeadlineMs = 45_000

export const describeProviderOverWebRTC = (strategy: StrategyName): void => {
  describe(`TrysteroProvider over real WebRTC (${strategy})`, () => {
    const fixture = useWebRtcFixture(strategy)
    let roomId = ''

    const newRoom = (): string => {
      roomId = fixture.roomId(`${strategy}-room`)
      return roomId
    }

    const join = async (options: TrysteroProviderOptions = {}): Promise<LivePeer> => {
      const peer = await fixture.peer()
      const doc = new Y.Doc()
      const provider = fixture.provider(new TrysteroProvider(doc, roomId, { ...peer.config, joinRoom: peer.joinRoom, ...options }))
      return { peer, doc, provider }
    }

    const fullMesh = async (live: LivePeer[]): Promise<void> => {
      await until(`a synced full mesh of ${live.length}`,
        () => live.every(({ provider }) => provider.synced && provider.peers.length === live.length - 1),
        live.flatMap(({ provider }) => [on(provider, 'peers'), on(provider, 'synced')]), meshDeadlineMs)
        .catch((error: Error) => { throw new Error(`${error.message}; ${describePeers(live)}`) })
    }

    const converge = async (live: LivePeer[], read: (doc: Y.Doc) => unknown): Promise<void> => {
      await converged(live.map(({ doc }) => doc), read, meshDeadlineMs)
        .catch((error: Error) => { throw new Error(`${error.message}; ${describePeers(live)}`) })
    }

    /** For a timeout message: where each peer stood. */
    const describePeers = (live: LivePeer[]): string => live.map(({ peer, provider }) =>
      `${peer.selfId.slice(0, 6)}: ${provider.status}${provider.synced ? ' synced' : ''}, peers [${provider.peers.map((p) => p.slice(0, 6)).join(' ')}]`).join('; ')

    it('two peers converge on concurrent edits to Y.Text, Y.Map and Y.Array', async () => {
      newRoom()
      const [a, b] = await Promise.all([join(), join()])
      // Made before the peers know of each other: concurrent by construction.
      a.doc.getText('text').insert(0, 'alpha ')
      b.doc.getText('text').insert(0, 'beta ')
      a.doc.getMap('map').set('key', 'a')
      b.doc.getMap('map').set('key', 'b')
      a.doc.getArray('array').push(['a1', 'a2'])
      b.doc.getArray('array').push(['b1'])
      const read = (d: Y.Doc): unknown => [d.getText('text').toString(), d.getMap('map').get('key'), d.getArray('array').toArray()]
      await converge([a, b], read)
      await fullMesh([a, b])
      expect(a.doc.getText('text').length).toBe('alpha beta '.length)
      expect(['a', 'b']).toContain(a.doc.getMap('map').get('key'))
      expect(a.doc.getArray('array').length).toBe(3)
      // And edits made once connected.
      b.doc.getText('text').insert(0, '> ')
      a.doc.getMap('map').set('after', true)
      await converge([a, b], (d) => [read(d), d.getMap('map').get('after')])
    })

    it('a late joiner receives the whole document', async () => {
      newRoom()
      const [a, b] = await Promise.all([join(), join()])
      for (let i = 0; i < 200; i++) a.doc.getArray('log').push([`entry ${i}`])
      b.doc.getText('title').insert(0, 'Minutes')
      await converge([a, b], (d) => [d.getArray('log').length, d.getText('title').toString()])
      const late = await join()
      await late.provider.whenSynced()
      await fullMesh([a, b, late])
      expect(late.doc.getArray('log').length).toBe(200)
      expect(late.doc.getText('title').toString()).toBe('Minutes')
    })

    it('a 5-peer room converges: every peer sees the same content and 4 peers', async () => {
      newRoom()
      const live = await Promise.all([0, 1, 2, 3, 4].map(async () => await join()))
      live.forEach(({ doc }, i) => {
        doc.getText('t').insert(0, `[${i}]`)
        doc.getMap('who').set(String(i), true)
      })
      await fullMesh(live)
      await converge(live, (d) => [d.getText('t').toString(), Object.keys(d.getMap('who').toJSON()).sort()])
      for (const { provider, peer } of live) {
        expect(provider.peers).toHaveLength(4)
        expect(provider.peers).not.toContain(peer.selfId)
      }
      expect(live[0]!.doc.getText('t').length).toBe(15)
    })

    it('syncs a 5 MB document to a fresh peer (y-webrtc fails over 256 KiB)', async () => {
      newRoom()
      // As V1, so that all of it crosses the channel (compact sync would send ~20 KB of it).
      const a = await join({ compactSync: false })
      const text = a.doc.getText('t')
      const block = 'abcdefghijklmnopqrstuvwxyz0123456789 '.repeat(1000)
      while (text.length < 5_000_000) text.insert(text.length, block)
      expect(Y.encodeStateAsUpdate(a.doc).byteLength).toBeGreaterThan(5_000_000)
      await a.provider.whenSynced()
      const b = await join({ compactSync: false })
      await b.provider.whenSynced()
      await converge([a, b], (d) => d.getText('t').length)
      expect(b.provider.trafficWith(a.peer.selfId).bytesReceived).toBeGreaterThan(5_000_000)
      expect(b.doc.getText('t').toString()).toBe(text.toString())
    })

    it("shows a peer's awareness at the others, and removes it within a second of its leaving", async () => {
      newRoom()
      const [a, b, c] = await Promise.all([join(), join(), join()])
      c.provider.awareness.setLocalStateField('user', { name: 'Cy', color: '#f80' })
      await until('C visible at A and B',
        () => [a, b].every(({ provider }) => provider.awareness.getStates().get(c.doc.clientID)?.['user'] !== undefined),
        [on(a.provider.awareness, 'change'), on(b.provider.awareness, 'change')], meshDeadlineMs)
      expect(a.provider.awareness.getStates().get(c.doc.clientID)).toEqual({ user: { name: 'Cy', color: '#f80' } })
      // The requirement is behavioural (y-webrtc keeps ghost cursors 30 s): gone within 1 s.
      const leaving = c.provider.destroy()
      await until('C gone at A and B', () => [a, b].every(({ provider }) => !provider.awareness.getStates().has(c.doc.clientID)),
        [on(a.provider.awareness, 'change'), on(b.provider.awareness, 'change')], 1000)
      await leaving
    })

    it('merges offline edits made on both sides of disconnect() after connect()', async () => {
      newRoom()
      const [a, b] = await Promise.all([join(), join()])
      a.doc.getText('t').insert(0, 'shared')
      await converge([a, b], (d) => d.getText('t').toString())
      await a.provider.disconnect()
      await until('B sees A leave', () => b.provider.peers.length === 0, [on(b.provider, 'peers')], meshDeadlineMs)
      a.doc.getText('t').insert(6, ' (A offline)')
      b.doc.getText('t').insert(0, '(B meanwhile) ')
      await a.provider.connect()
      await converge([a, b], (d) => d.getText('t').toString())
      expect(a.doc.getText('t').toString()).toBe('(B meanwhile) shared (A offline)')
      await fullMesh([a, b])
    })

    it('survives garbage from a peer: no exception, document unchanged, sync with a third peer continues', async () => {
      newRoom()
      const [a, b] = await Promise.all([join({ peerHelloTimeout: 200 }), join()])
      a.doc.getText('t').insert(0, 'before')
      await converge([a, b], (d) => d.getText('t').toString())
      await fullMesh([a, b])
      const hostile = await fixture.peer()
      const hostileRoom: TrysteroRoom = hostile.joinRoom(hostile.config, roomId)
      const action = hostileRoom.makeAction(docChannelKey(''))
      const joinedA = new Promise<void>((resolve) => {
        hostileRoom.onPeerJoin = (id) => { if (id === a.peer.selfId) resolve() }
      })
      await joinedA
      const errors: TrysteroYjsError[] = []
      a.provider.on('error', (error: TrysteroYjsError) => errors.push(error))
      const stateBefore = Y.encodeStateAsUpdate(a.doc)
      const frames = hostileFrames()
      for (const [, frame] of frames) await action.send(frame as Uint8Array, { target: a.peer.selfId })
      await until(`${frames.length} errors at A`, () => errors.length >= frames.length, [on(a.provider, 'error')], meshDeadlineMs)
      expect(errors.every((e) => e.peerId === hostile.selfId)).toBe(true)
      expect(Y.encodeStateAsUpdate(a.doc)).toEqual(stateBefore)
      b.doc.getText('t').insert(6, ' and after')
      await converge([a, b], (d) => d.getText('t').toString())
      expect(a.doc.getText('t').toString()).toBe('before and after')
      await hostileRoom.leave()
    })

    it("shares a room the app joined itself, and the app's onPeerJoin keeps firing", async () => {
      newRoom()
      const appPeer = await fixture.peer()
      const appRoom: TrysteroRoom = appPeer.joinRoom(appPeer.config, roomId)
      const joinedAtApp: string[] = []
      appRoom.onPeerJoin = (id) => joinedAtApp.push(id)
      const a = fixture.provider(new TrysteroProvider(new Y.Doc(), appRoom))
      const b = await join()
      await until('A and B synced', () => a.synced && a.peers.length === 1, [on(a, 'synced'), on(a, 'peers')], meshDeadlineMs)
      expect(joinedAtApp).toEqual([b.peer.selfId])
      b.doc.getText('t').insert(0, 'through the app room')
      await converge([{ peer: appPeer, doc: a.doc, provider: a }, b], (d) => d.getText('t').toString())
      await a.destroy()
      expect(Object.keys(appRoom.getPeers())).toEqual([b.peer.selfId])
      await appRoom.leave()
    })
  })
}
