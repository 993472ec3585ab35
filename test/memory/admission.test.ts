/**
 * Private rooms over the memory network, which (like Trystero when a connection of another room
 * of the same app is attached to this one) connects whoever joins the room id: admission is ours
 * alone to enforce. PROTOCOL.md §5.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { deriveRoomKeys, docChannelKey, TrysteroProvider, TrysteroYjsError } from '../../src/index.js'
import { connectionFingerprints } from '../../src/admission/channel-binding.js'
import { createProof, type Proof } from '../../src/admission/proof.js'
import { roomCredentials, type RoomCredentials } from '../../src/admission/room-keys.js'
import { DeltaSyncedLWWMap } from '../../src/lww/index.js'
import { decodeRoomMessage, encodeRoomMessage, protocolVersion, roomChannelName, type RoomMessage } from '../../src/protocol/room-messages.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import type { MemoryDelivery } from '../../src/testing/index.js'
import { syncUpdateEnvelope, updateWithDeletions } from '../support/hostile-frames.js'
import { appId, createMemoryMesh, fullMesh, type MemoryMesh } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

const password = 'correct horse battery staple'
const docAction = docChannelKey('')

/** Everything delivered to `peerId`, by action. */
const recordDeliveriesTo = (mesh: MemoryMesh, peerId: string): MemoryDelivery[] => {
  const seen: MemoryDelivery[] = []
  mesh.network.observeDeliveries((delivery) => { if (delivery.to === peerId) seen.push(delivery) })
  return seen
}

const roomMessages = (deliveries: MemoryDelivery[]): RoomMessage[] =>
  deliveries.filter((d) => d.action === roomChannelName).map((d) => decodeRoomMessage(d.payload as Uint8Array)!)

/** A peer in the room with raw Trystero calls. */
const rawPeer = (mesh: MemoryMesh) => {
  const peer = mesh.network.createPeer()
  const room: TrysteroRoom = peer.joinRoom({ appId }, 'room')
  const control = room.makeAction(roomChannelName)
  const received: Array<{ message: RoomMessage, from: string }> = []
  control.onMessage = (data, { peerId }) => { received.push({ message: decodeRoomMessage(data)!, from: peerId }) }
  const joined = new Promise<string>((resolve) => { room.onPeerJoin = resolve })
  return { mesh, peer, room, control, received, joined }
}

/** Runs the admission exchange by hand, as a peer holding `credentials` (or claiming `role`). */
const proveAs = async (intruder: ReturnType<typeof rawPeer>, credentials: RoomCredentials, victim: string, claim: Partial<Proof> = {}): Promise<void> => {
  await intruder.mesh.network.settle()
  const challenge = intruder.received.find(({ message, from }) => from === victim && message.type === 'challenge')!.message as Extract<RoomMessage, { type: 'challenge' }>
  const nonce = crypto.getRandomValues(new Uint8Array(32))
  const fingerprints = connectionFingerprints(intruder.room.getPeers()[victim])!
  const proof = await createProof(credentials, { proverNonce: nonce, verifierNonce: challenge.nonce, proverFingerprint: fingerprints.local, verifierFingerprint: fingerprints.remote })
  void intruder.control.send(encodeRoomMessage({ type: 'challenge', nonce }), { target: victim })
  void intruder.control.send(encodeRoomMessage({ ...proof, ...claim, type: 'proof' }), { target: victim })
}

describe('private rooms: admission over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('peers with the same password sync documents and awareness', async () => {
    const a = mesh.add('room', { password })
    const b = mesh.add('room', { password })
    a.doc.getText('t').insert(0, 'secret text')
    b.provider.awareness.setLocalStateField('user', { name: 'Bea' })
    await fullMesh([a, b])
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    await until('B visible at A', () => a.provider.awareness.getStates().get(b.doc.clientID)?.['user'] !== undefined, [on(a.provider.awareness, 'change')])
    expect(a.provider.role).toBe('writer')
  })

  it('a peer with a wrong password is refused, reported by name, disconnected, and sent nothing of the document', async () => {
    const a = mesh.add('room', { password })
    a.doc.getText('t').insert(0, 'secret text')
    const intruder = rawPeer(mesh)
    const seen = recordDeliveriesTo(mesh, intruder.peer.selfId)
    const victim = await intruder.joined
    const refused = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    await proveAs(intruder, await roomCredentials({ password: 'wrong' }, { appId, roomId: 'room' }), victim)
    const [error] = await refused
    expect(error.peerId).toBe(intruder.peer.selfId)
    expect(error.message).toMatch(/refused admission: wrong room key/)
    await mesh.network.settle()
    // A may have proved itself to it (both ends prove at once), but never names a document or sends one.
    expect(seen.filter((d) => d.action !== roomChannelName)).toEqual([])
    expect(roomMessages(seen).filter((m) => m.type !== 'challenge' && m.type !== 'proof')).toEqual([])
    expect(a.provider.peers).toEqual([])
    expect(Object.keys(a.provider.room!.getPeers())).toEqual([])
    expect(a.provider.synced).toBe(true)
  })

  it('two providers with different passwords never sync', async () => {
    const a = mesh.add('room', { password })
    const b = mesh.add('room', { password: 'other' })
    a.doc.getText('t').insert(0, 'a')
    b.doc.getText('t').insert(0, 'b')
    const refusals: TrysteroYjsError[] = []
    for (const side of [a, b]) side.provider.on('error', (error: TrysteroYjsError) => refusals.push(error))
    await until('one of them refused the other', () => refusals.length > 0, [on(a.provider, 'error'), on(b.provider, 'error')])
    await mesh.network.settle()
    expect(refusals.every((e) => /refused admission/.test(e.message))).toBe(true)
    expect([a.doc.getText('t').toString(), b.doc.getText('t').toString()]).toEqual(['a', 'b'])
    expect([a.provider.peers, b.provider.peers]).toEqual([[], []])
  })

  it('a peer that skips admission is refused at its first message, and what it sent is dropped', async () => {
    const a = mesh.add('room', { password })
    a.doc.getText('t').insert(0, 'secret')
    const intruder = rawPeer(mesh)
    const victim = await intruder.joined
    const stateBefore = Y.encodeStateAsUpdate(a.doc)
    const refused = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    void intruder.control.send(encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: true, channels: [docAction], features: 0 }), { target: victim })
    void intruder.room.makeAction(docAction).send(syncUpdateEnvelope(updateWithDeletions()), { target: victim })
    const [error] = await refused
    expect(error.peerId).toBe(intruder.peer.selfId)
    expect(error.message).toMatch(/sent hello before proving the room key/)
    await mesh.network.settle()
    expect(Y.encodeStateAsUpdate(a.doc)).toEqual(stateBefore)
    expect(intruder.received.map(({ message }) => message.type)).toEqual(['challenge'])
  })

  it("a proof relayed from another member's connection is refused (bound to nonces and certificates)", async () => {
    const a = mesh.add('room', { password })
    const b = mesh.add('room', { password })
    await fullMesh([a, b])
    // The intruder sees B's proof to A (as a relay would) and replays it to A in its own name.
    let proofFromB: Uint8Array | null = null
    mesh.network.observeDeliveries((d) => {
      if (d.from === b.peer.selfId && d.action === roomChannelName && decodeRoomMessage(d.payload as Uint8Array)?.type === 'proof') proofFromB = d.payload as Uint8Array
    })
    await b.provider.disconnect()
    await b.provider.connect()
    await fullMesh([a, b])
    expect(proofFromB).not.toBeNull()
    const intruder = rawPeer(mesh)
    await mesh.network.settle()
    expect(intruder.received.map(({ message }) => message.type)).toEqual(['challenge', 'challenge'])
    const refused = nextEvent<[TrysteroYjsError]>(a.provider, 'error', (e) => e.peerId === intruder.peer.selfId)
    // A challenge of its own (fresh nonce), then B's proof.
    void intruder.control.send(encodeRoomMessage({ type: 'challenge', nonce: new Uint8Array(32).fill(9) }), { target: a.peer.selfId })
    void intruder.control.send(proofFromB!, { target: a.peer.selfId })
    const [error] = await refused
    expect(error.message).toMatch(/wrong room key/)
    expect(a.provider.peers).toEqual([b.peer.selfId])
  })

  it('a viewer reads the document and shows its cursor; its edits are refused by every writer, reported, and the document is unchanged', async () => {
    const { viewKey } = await deriveRoomKeys(password, { appId, roomId: 'room' })
    const writer = mesh.add('room', { password })
    writer.doc.getText('t').insert(0, 'published')
    const viewer = mesh.add('room', { viewKey })
    expect(viewer.provider.role).toBe('viewer')
    await until('viewer synced with the text', () => viewer.provider.synced && viewer.doc.getText('t').toString() === 'published',
      [on(viewer.provider, 'synced'), on(viewer.doc, 'update')])
    viewer.provider.awareness.setLocalStateField('user', { name: 'Vic' })
    await until('viewer visible at the writer', () => writer.provider.awareness.getStates().get(viewer.doc.clientID) !== undefined, [on(writer.provider.awareness, 'change')])
    // Its own edit stays local, with a warning.
    const warned = nextEvent<[TrysteroYjsError]>(viewer.provider, 'warning', (w) => /view key only/.test(w.message))
    viewer.doc.getText('t').insert(0, 'defaced ')
    await warned
    // A hand-sent update in its name is refused.
    const refused = nextEvent<[TrysteroYjsError]>(writer.provider, 'error')
    const viewerRoom = viewer.provider.room!
    void viewerRoom.makeAction(docAction).send(syncUpdateEnvelope(Y.encodeStateAsUpdate(viewer.doc)), { target: writer.peer.selfId })
    const [error] = await refused
    expect(error.peerId).toBe(viewer.peer.selfId)
    expect(error.message).toMatch(/update from a viewer refused/)
    expect(writer.doc.getText('t').toString()).toBe('published')
    // A second writer joins: synced without waiting for the viewer, and sees no defacing either.
    const second = mesh.add('room', { password })
    await until('the second writer synced with both', () => second.provider.synced && second.provider.peers.length === 2,
      [on(second.provider, 'synced'), on(second.provider, 'peers')])
    expect(second.doc.getText('t').toString()).toBe('published')
  })

  it('a viewer that claims to write is refused', async () => {
    const viewer = await roomCredentials({ viewKey: (await deriveRoomKeys(password, { appId, roomId: 'room' })).viewKey }, { appId, roomId: 'room' })
    const writer = mesh.add('room', { password })
    const intruder = rawPeer(mesh)
    const victim = await intruder.joined
    const refused = nextEvent<[TrysteroYjsError]>(writer.provider, 'error')
    await proveAs(intruder, viewer, victim, { role: 'writer', writerSignature: new Uint8Array(64).fill(1) })
    const [error] = await refused
    expect(error.peerId).toBe(intruder.peer.selfId)
    expect(error.message).toMatch(/claims to write without a valid write proof/)
  })

  it('LWW channels on a private room reach admitted peers only', async () => {
    const a = mesh.add('room', { password })
    const b = mesh.add('room', { password })
    await fullMesh([a, b])
    const mapA = new DeltaSyncedLWWMap(a.provider.room!, 'settings')
    const mapB = new DeltaSyncedLWWMap(b.provider.room!, 'settings')
    mapA.set('theme', 'dark')
    await until('B has the setting', () => mapB.get('theme') === 'dark', [on(mapB, 'change')])
    const intruder = mesh.network.createPeer()
    const seen = recordDeliveriesTo(mesh, intruder.selfId)
    const c = mesh.add('room', { password: 'guess' }, intruder)
    c.provider.on('error', () => {})
    await mesh.network.settle()
    expect(Object.keys(a.provider.room!.getPeers())).toEqual([b.peer.selfId])
    mapA.set('theme', 'light')
    await until('B has the change', () => mapB.get('theme') === 'light', [on(mapB, 'change')])
    await mesh.network.settle()
    expect(seen.every((d) => d.action === roomChannelName)).toBe(true)
    mapA.destroy()
    mapB.destroy()
  })

  it('keys are bound to the room: the same password gives other keys in another room', async () => {
    const one = await deriveRoomKeys(password, { appId, roomId: 'room' })
    const other = await deriveRoomKeys(password, { appId, roomId: 'other' })
    expect(one.writeKey).not.toBe(other.writeKey)
    expect(one.viewKey).not.toBe(other.viewKey)
    expect(one.viewKey).toHaveLength(86)
  })

  it('rejects contradictory or malformed secrets with a clear error', async () => {
    const peer = mesh.network.createPeer()
    expect(() => new TrysteroProvider(new Y.Doc(), 'room', { appId, joinRoom: peer.joinRoom, password, viewKey: 'x', connect: false }))
      .toThrow(/one of password, writeKey and viewKey/)
    const room = peer.joinRoom({ appId }, 'room')
    expect(() => new TrysteroProvider(new Y.Doc(), room, { password, connect: false })).toThrow(/needs options.appId and options.roomId/)
    expect(() => new TrysteroProvider(new Y.Doc(), room, { password, roomId: 'room', connect: false })).toThrow(/needs options.appId and options.roomId/)
    const bad = mesh.add('room', { writeKey: 'too-short' }, peer)
    const [error] = await nextEvent<[TrysteroYjsError]>(bad.provider, 'error')
    expect(error.message).toMatch(/writeKey must be 32 bytes in base64url/)
    expect(bad.provider.status).toBe('disconnected')
  })
})
