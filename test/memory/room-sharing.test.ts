/**
 * Sharing a Trystero room: several documents per room, a room the app joined itself (its own
 * onPeerJoin/onPeerLeave keep working), and peers that have the room but not the document.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider, TrysteroYjsError, docChannelKey } from '../../src/index.js'
import { encodeRoomMessage, roomChannelName } from '../../src/protocol/room-messages.js'
import { appId, createMemoryMesh } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

describe('room sharing over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('syncs several documents in one room independently', async () => {
    const peerA = mesh.network.createPeer()
    const peerB = mesh.network.createPeer()
    const names = ['notes', 'a name with spaces and ünïcödé that is far longer than thirty-two bytes']
    const docs = names.map(() => [new Y.Doc(), new Y.Doc()] as const)
    names.forEach((docName, i) => {
      mesh.track(new TrysteroProvider(docs[i]![0], 'room', { appId, joinRoom: peerA.joinRoom, docName }))
      mesh.track(new TrysteroProvider(docs[i]![1], 'room', { appId, joinRoom: peerB.joinRoom, docName }))
    })
    docs[0]![0].getText('t').insert(0, 'first doc')
    docs[1]![1].getText('t').insert(0, 'second doc')
    await converged([...docs[0]!], (d) => d.getText('t').toString())
    await converged([...docs[1]!], (d) => d.getText('t').toString())
    expect(docs[0]![1].getText('t').toString()).toBe('first doc')
    expect(docs[1]![0].getText('t').toString()).toBe('second doc')
    expect(docChannelKey(names[1]!)).toMatch(/^ty:h:[A-Za-z0-9_-]{27}$/)
  })

  it('warns a provider whose compactSync or broadcastChannel the room does not follow (the first provider\'s applies)', async () => {
    const peer = mesh.network.createPeer()
    const warnings = (provider: TrysteroProvider): string[] => {
      const seen: string[] = []
      provider.on('warning', (warning) => seen.push(warning.message))
      return seen
    }
    const first = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peer.joinRoom, docName: 'first', compactSync: false }))
    const firstSeen = warnings(first)
    await first.whenSynced()
    const other = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peer.joinRoom, docName: 'other' }))
    const otherSeen = warnings(other)
    const same = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peer.joinRoom, docName: 'same', compactSync: false }))
    const sameSeen = warnings(same)
    await Promise.all([other.whenSynced(), same.whenSynced()])
    // Said once per provider, not at every reconnect.
    await other.disconnect()
    await other.connect()
    await other.whenSynced()
    expect(otherSeen.filter((m) => m.includes('opened first'))).toEqual([
      'trystero-yjs: this room was opened first by a provider with compactSync: false: per room, the first provider\'s setting applies, to this one too (doc "other")'
    ])
    expect(sameSeen.filter((m) => m.includes('opened first'))).toEqual([])
    expect(firstSeen).toEqual([])
  })

  it('does not wait for, nor send to, a peer that has the room but not the document', async () => {
    const peerA = mesh.network.createPeer()
    const peerB = mesh.network.createPeer()
    const a = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerA.joinRoom, docName: 'x' }))
    const b = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerB.joinRoom, docName: 'y' }))
    await Promise.all([a.whenSynced(), b.whenSynced()])
    await mesh.network.settle()
    a.doc.getText('t').insert(0, 'only for x')
    await mesh.network.settle()
    expect(a.synced).toBe(true)
    expect(a.peers).toEqual([])
    expect(mesh.network.stats.byAction[docChannelKey('x')]).toBeUndefined()
    expect(mesh.network.stats.byAction[docChannelKey('y')]).toBeUndefined()
  })

  it("keeps the app's onPeerJoin/onPeerLeave working on a room it gave the provider", async () => {
    const peerA = mesh.network.createPeer()
    const peerB = mesh.network.createPeer()
    const roomA = peerA.joinRoom({ appId }, 'room')
    const joinedBefore: string[] = []
    roomA.onPeerJoin = (id) => joinedBefore.push(id)
    const a = mesh.track(new TrysteroProvider(new Y.Doc(), roomA))
    const b = mesh.add('room', {}, peerB)
    await until('A and B synced together', () => a.synced && a.peers.length === 1, [on(a, 'synced'), on(a, 'peers')])
    expect(joinedBefore).toEqual([peerB.selfId])
    expect(a.room).toBe(roomA)

    // Assigned after the provider: Trystero's replay of connected peers, exactly once.
    const joinedAfter: string[] = []
    roomA.onPeerJoin = (id) => joinedAfter.push(id)
    const left = new Promise<string>((resolve) => { roomA.onPeerLeave = resolve })
    expect(joinedAfter).toEqual([peerB.selfId])
    expect(roomA.onPeerJoin).toBeTypeOf('function')

    // The app's own actions still work beside ours.
    const chatB = b.provider.room!.makeAction('chat')
    const received = new Promise<[Uint8Array, { peerId: string }]>((resolve) => { roomA.makeAction('chat').onMessage = (data, ctx) => resolve([data, ctx]) })
    void chatB.send(new TextEncoder().encode('hi'))
    const [data, ctx] = await received
    expect(new TextDecoder().decode(data)).toBe('hi')
    expect(ctx.peerId).toBe(peerB.selfId)

    await b.provider.destroy()
    expect(await left).toBe(peerB.selfId)
    expect(a.peers).toEqual([])
  })

  it("does not leave a room the app gave it; the app's leave() disconnects the provider", async () => {
    const peerA = mesh.network.createPeer()
    const roomA = peerA.joinRoom({ appId }, 'room')
    const a = mesh.track(new TrysteroProvider(new Y.Doc(), roomA))
    await a.whenSynced()
    await a.disconnect()
    expect(Object.keys(roomA.getPeers())).toEqual([])
    // Still joined: a second peer connects to the app's room, and is not kept waiting by it
    // (the room still answers HELLO, with no document open).
    const bJoined = new Promise((resolve) => { roomA.onPeerJoin = resolve })
    const b = mesh.add('room', { peerHelloTimeout: 60_000 })
    await bJoined
    await until('B synced alone', () => b.provider.synced, [on(b.provider, 'synced')])
    expect(b.provider.peers).toEqual([])
    await a.connect()
    await until('A synced with B again', () => a.synced && a.peers.length === 1, [on(a, 'synced'), on(a, 'peers')])
    const statuses: string[] = []
    a.on('status', ({ status }: { status: string }) => statuses.push(status))
    await roomA.leave()
    expect(statuses).toEqual(['disconnected'])
    const errors: TrysteroYjsError[] = []
    a.on('error', (e: TrysteroYjsError) => errors.push(e))
    await a.connect()
    expect(errors[0]?.message).toMatch(/left by the app/)
  })

  it('keeps a shared room joined until its last provider disconnects', async () => {
    const peerA = mesh.network.createPeer()
    const one = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerA.joinRoom, docName: 'one' }))
    const two = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerA.joinRoom, docName: 'two' }))
    await Promise.all([one.whenSynced(), two.whenSynced()])
    expect(one.room).toBe(two.room)
    const b = mesh.add('room', { docName: 'two' })
    await until('two synced with B', () => two.peers.length === 1 && two.synced, [on(two, 'peers'), on(two, 'synced')])
    await one.disconnect()
    b.provider.doc.getText('t').insert(0, 'still here')
    await converged([two.doc, b.provider.doc], (d) => d.getText('t').toString())
    await two.disconnect()
    await until('B sees the room empty', () => b.provider.peers.length === 0, [on(b.provider, 'peers')])
  })

  it('reports a second provider for the same document and room', async () => {
    const peerA = mesh.network.createPeer()
    const first = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerA.joinRoom }))
    await first.whenSynced()
    const second = mesh.track(new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peerA.joinRoom, connect: false }))
    const errors: TrysteroYjsError[] = []
    second.on('error', (e: TrysteroYjsError) => errors.push(e))
    await second.connect()
    expect(second.status).toBe('disconnected')
    expect(errors[0]).toBeInstanceOf(TrysteroYjsError)
    expect(errors[0]!.message).toMatch(/already open/)
  })

  it('names a subdocument by its guid, so subdocuments sync through the parent room', async () => {
    const [parentA, parentB] = [new Y.Doc(), new Y.Doc()]
    const a = mesh.add('room')
    const b = mesh.add('room')
    a.doc.getMap('subdocs').set('chapter', parentA)
    // The subdocument travels as part of the parent document.
    await converged([a.doc, b.doc], (d) => d.getMap('subdocs').has('chapter'))
    const subA = a.doc.getMap('subdocs').get('chapter') as Y.Doc
    const subB = b.doc.getMap('subdocs').get('chapter') as Y.Doc
    expect(subA.guid).toBe(subB.guid)
    subB.load()
    const providerA = mesh.track(new TrysteroProvider(subA, 'room', { appId, joinRoom: a.peer.joinRoom }))
    const providerB = mesh.track(new TrysteroProvider(subB, 'room', { appId, joinRoom: b.peer.joinRoom }))
    expect(providerA.docName).toBe(subA.guid)
    subA.getText('t').insert(0, 'inside the chapter')
    await converged([subA, subB], (d) => d.getText('t').toString())
    await providerB.whenSynced()
    void parentB
  })

  it('waits for a silent peer at most peerHelloTimeout, then syncs without it', async () => {
    const silent = mesh.network.createPeer().joinRoom({ appId }, 'room')
    const a = mesh.add('room', { peerHelloTimeout: 50 })
    const [warning] = await nextEvent<[TrysteroYjsError]>(a.provider, 'warning')
    expect(warning.message).toMatch(/no HELLO/)
    expect(warning.peerId).toBeTypeOf('string')
    await a.provider.whenSynced()
    expect(a.provider.peers).toEqual([])
    void silent
  })

  it('ignores a peer that speaks another protocol version, with a warning', async () => {
    const other = mesh.network.createPeer()
    const room = other.joinRoom({ appId }, 'room')
    const control = room.makeAction(roomChannelName)
    room.onPeerJoin = (peerId) => {
      void control.send(encodeRoomMessage({ type: 'hello', version: 99, replyRequested: false, channels: [docChannelKey('')], features: 0 }), { target: peerId })
    }
    const a = mesh.add('room')
    const [warning] = await nextEvent<[TrysteroYjsError]>(a.provider, 'warning')
    expect(warning.message).toMatch(/protocol 99/)
    expect(warning.messageType).toBe('hello')
    await a.provider.whenSynced()
    expect(a.provider.peers).toEqual([])
  })
})
