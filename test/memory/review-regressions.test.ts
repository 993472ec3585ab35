/**
 * Behaviours pinned after a review found them broken: ghost peers from held HELLOs, awareness
 * spoofing, throwing app listeners and observers, offline awareness, incompatible peers.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { TrysteroProvider, TrysteroYjsError, docChannelKey } from '../../src/index.js'
import { encodeFrame } from '../../src/protocol/doc-messages.js'
import { encodeAwarenessEntries } from '../../src/protocol/awareness-entries.js'
import { encodeRoomMessage, protocolVersion, roomChannelName } from '../../src/protocol/room-messages.js'
import { appId, createMemoryMesh, fullMesh } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

describe('review regressions (memory network)', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('does not resurrect a peer whose HELLO Trystero held until the provider came', async () => {
    const peerA = mesh.network.createPeer()
    const roomA = peerA.joinRoom({ appId }, 'room')
    const bJoined = new Promise((resolve) => { roomA.onPeerJoin = resolve })
    const b = mesh.add()
    await bJoined
    await mesh.network.settle()
    // B leaves without closing the document (like a crashed tab): its HELLO, held by the app's
    // room since nobody had created the room action there, is all that A will ever hear of it.
    await b.provider.room!.leave()
    await mesh.network.settle()
    expect(Object.keys(roomA.getPeers())).toEqual([])
    const a = mesh.track(new TrysteroProvider(new Y.Doc(), roomA))
    await a.whenSynced()
    await mesh.network.settle()
    expect(a.peers).toEqual([])
    expect(a.synced).toBe(true)
  })

  it('drops awareness entries a peer sends for our client or for another peer', async () => {
    const a = mesh.add()
    const b = mesh.add()
    a.provider.awareness.setLocalStateField('user', 'Ada')
    b.provider.awareness.setLocalStateField('user', 'Bob')
    await until('A sees B', () => a.provider.awareness.getStates().has(b.doc.clientID), [on(a.provider.awareness, 'change')])
    // M announces the document, then claims to speak for A and for B.
    const m = mesh.network.createPeer()
    const roomM = m.joinRoom({ appId }, 'room')
    const joined = new Promise<void>((resolve) => {
      roomM.onPeerJoin = (id) => {
        if (id !== a.peer.selfId) return
        void roomM.makeAction(roomChannelName).send(encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docChannelKey('')], features: 0 }), { target: id })
        resolve()
      }
    })
    await joined
    const warnings: TrysteroYjsError[] = []
    a.provider.on('warning', (w: TrysteroYjsError) => warnings.push(w))
    const spoof = encodeAwarenessEntries([
      { clientID: a.doc.clientID, clock: 1e12, state: { user: 'EVIL' } },
      { clientID: b.doc.clientID, clock: 2 ** 52, state: null },
      { clientID: 4242, clock: 1, state: { user: 'M itself' } }
    ])
    void roomM.makeAction(docChannelKey('')).send(encodeFrame([{ type: 'awareness', update: spoof }]), { target: a.peer.selfId })
    await until('M visible at A', () => a.provider.awareness.getStates().has(4242), [on(a.provider.awareness, 'change')])
    expect(a.provider.awareness.getLocalState()).toEqual({ user: 'Ada' })
    expect(a.provider.awareness.getStates().get(b.doc.clientID)).toEqual({ user: 'Bob' })
    expect(warnings.map((w) => w.peerId)).toEqual([m.selfId, m.selfId])
    // B's own later changes still come through.
    b.provider.awareness.setLocalStateField('user', 'Bob 2')
    await until('B update at A', () => a.provider.awareness.getStates().get(b.doc.clientID)?.['user'] === 'Bob 2', [on(a.provider.awareness, 'change')])
  })

  it('keeps every document of a room right when an app listener throws', async () => {
    const peerA = mesh.network.createPeer()
    const one = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerA.joinRoom, docName: 'one' }))
    const two = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerA.joinRoom, docName: 'two' }))
    const peerB = mesh.network.createPeer()
    const bOne = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerB.joinRoom, docName: 'one' }))
    const bTwo = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerB.joinRoom, docName: 'two' }))
    await until('both documents synced with B', () => one.peers.length === 1 && two.peers.length === 1 && one.synced && two.synced,
      [on(one, 'peers'), on(two, 'peers'), on(one, 'synced'), on(two, 'synced')])
    const errors: TrysteroYjsError[] = []
    one.on('error', (e: TrysteroYjsError) => errors.push(e))
    one.on('peers', () => { throw new Error('app bug') })
    await Promise.all([bOne.destroy(), bTwo.destroy()])
    await until('B gone from both', () => one.peers.length === 0 && two.peers.length === 0, [on(two, 'peers'), on(one, 'synced')])
    expect(one.synced && two.synced).toBe(true)
    expect(errors[0]?.message).toMatch(/"peers" listener threw/)
  })

  it('counts a peer as answered when a document observer throws on its step 2', async () => {
    const a = mesh.add()
    a.doc.getText('t').insert(0, 'content')
    await a.provider.whenSynced()
    const b = mesh.add('room', { connect: false })
    const errors: TrysteroYjsError[] = []
    b.provider.on('error', (e: TrysteroYjsError) => errors.push(e))
    b.doc.getText('t').observe(() => { throw new Error('observer bug') })
    void b.provider.connect()
    await until('B synced with A', () => b.provider.synced && b.provider.peers.length === 1, [on(b.provider, 'synced'), on(b.provider, 'peers')])
    expect(b.doc.getText('t').toString()).toBe('content')
    expect(errors[0]?.message).toMatch(/a document observer \(app code\) threw; the update itself is in/)
  })

  it('does not overwrite on connect() an awareness state the app set while offline', async () => {
    const a = mesh.add()
    const b = mesh.add()
    a.provider.awareness.setLocalStateField('user', 'before')
    await until('B sees A', () => b.provider.awareness.getStates().has(a.doc.clientID), [on(b.provider.awareness, 'change')])
    await a.provider.disconnect()
    a.provider.awareness.setLocalState({ user: 'set offline' })
    await a.provider.connect()
    expect(a.provider.awareness.getLocalState()).toEqual({ user: 'set offline' })
    await until('B sees the new state', () => b.provider.awareness.getStates().get(a.doc.clientID)?.['user'] === 'set offline',
      [on(b.provider.awareness, 'change')])
  })

  it('keeps ignoring a peer of another protocol version, even if it OPENs later', async () => {
    const other = mesh.network.createPeer()
    const room = other.joinRoom({ appId }, 'room')
    const control = room.makeAction(roomChannelName)
    room.onPeerJoin = (peerId) => {
      void control.send(encodeRoomMessage({ type: 'hello', version: 99, replyRequested: false, channels: [], features: 0 }), { target: peerId })
      void control.send(encodeRoomMessage({ type: 'open', channel: docChannelKey('') }), { target: peerId })
    }
    const a = mesh.add()
    await nextEvent(a.provider, 'warning')
    await mesh.network.settle()
    expect(a.provider.peers).toEqual([])
    expect(a.provider.synced).toBe(true)
  })

  it('leaves the states of an awareness it shares with the app alone when disconnecting', async () => {
    const doc = new Y.Doc()
    const awareness = new Awareness(doc)
    const elsewhere = new Awareness(new Y.Doc())
    elsewhere.setLocalStateField('user', 'from another provider')
    const { applyAwarenessUpdate } = await import('y-protocols/awareness')
    applyAwarenessUpdate(awareness, encodeAwarenessUpdate(elsewhere, [elsewhere.clientID]), 'other provider')
    const peer = mesh.network.createPeer()
    const a = mesh.track(new TrysteroProvider(doc, 'room', { appId, joinRoom: peer.joinRoom, awareness }))
    const b = mesh.add()
    await fullMesh([{ peer, doc, provider: a }, b])
    await a.disconnect()
    expect(awareness.getStates().get(elsewhere.clientID)).toEqual({ user: 'from another provider' })
    elsewhere.destroy()
    awareness.destroy()
  })

  it('asks Yjs for encoded updates only while there is a peer to send them to', async () => {
    const listeners = (doc: Y.Doc): number => doc._observers.get('update')?.size ?? 0
    const a = mesh.add()
    await a.provider.whenSynced()
    expect(listeners(a.doc)).toBe(0)
    const b = mesh.add()
    await until('A has B', () => a.provider.peers.length === 1, [on(a.provider, 'peers')])
    expect(listeners(a.doc)).toBe(1)
    await b.provider.destroy()
    await until('A alone', () => a.provider.peers.length === 0, [on(a.provider, 'peers')])
    expect(listeners(a.doc)).toBe(0)
    a.doc.getText('t').insert(0, 'alone')
    const c = mesh.add()
    await converged([a.doc, c.doc], (d) => d.getText('t').toString())
  })
})
