/**
 * Bad input from a peer: random bytes, truncated messages, forged lengths, unknown types,
 * non-binary payloads, oversized frames, and a peer that answers step 1 with garbage. Nothing may
 * throw out of a handler, change the document, or stop sync with a well-behaved third peer.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroYjsError, docChannelKey } from '../../src/index.js'
import { encodeFrame } from '../../src/protocol/doc-messages.js'
import { decodeRoomMessage, encodeRoomMessage, protocolVersion, roomChannelName } from '../../src/protocol/room-messages.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import { hostileFrames, syncUpdateEnvelope, updateWithDeletions } from '../support/hostile-frames.js'
import { appId, createMemoryMesh, type MemoryMesh, type MemoryTestPeer } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

/** A peer that joins the room with raw Trystero calls, to send whatever it likes. */
const joinHostile = (mesh: MemoryMesh, announceDoc = false) => {
  const peer = mesh.network.createPeer()
  const room: TrysteroRoom = peer.joinRoom({ appId }, 'room')
  const docAction = room.makeAction(docChannelKey(''))
  const joined = new Promise<string>((resolve) => {
    room.onPeerJoin = (peerId) => {
      if (announceDoc) {
        void room.makeAction(roomChannelName).send(
          encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docChannelKey('')], features: 0 }), { target: peerId })
      }
      resolve(peerId)
    }
  })
  return { peer, room, docAction, joined }
}

describe('hostile input over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('premise: applying a truncated update directly half-applies it', () => {
    const update = updateWithDeletions()
    const doc = new Y.Doc()
    expect(() => Y.applyUpdate(doc, update.slice(0, update.length - 1))).toThrow()
    expect(doc.getText('t').length).toBeGreaterThan(0)
  })

  it('rejects every hostile frame, keeps the document unchanged and keeps syncing with others', async () => {
    // The hostile peer never sends HELLO: A waits for it only this long before it counts as absent.
    const a = mesh.add('room', { peerHelloTimeout: 100 })
    const b = mesh.add()
    a.doc.getText('t').insert(0, 'before')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    const hostile = joinHostile(mesh)
    const victimId = await hostile.joined
    expect(victimId).toBe(a.peer.selfId)
    const errors: TrysteroYjsError[] = []
    a.provider.on('error', (error: TrysteroYjsError) => errors.push(error))
    const stateBefore = Y.encodeStateAsUpdate(a.doc)
    const frames = hostileFrames()
    for (const [, frame] of frames) void hostile.docAction.send(frame as Uint8Array, { target: victimId })
    await until(`${frames.length} errors`, () => errors.length >= frames.length, [on(a.provider, 'error')])
    await mesh.network.settle()

    expect(mesh.network.handlerErrors).toEqual([])
    expect(errors).toHaveLength(frames.length)
    for (const error of errors) {
      expect(error).toBeInstanceOf(TrysteroYjsError)
      expect(error.peerId).toBe(hostile.peer.selfId)
      expect(error.messageType).toBeTypeOf('string')
    }
    expect(errors.filter((e) => e.byteLength !== undefined).length).toBeGreaterThanOrEqual(frames.length - 2)
    expect(Y.encodeStateAsUpdate(a.doc)).toEqual(stateBefore)
    expect(a.doc.getText('t').toString()).toBe('before')
    expect([...a.doc.share.keys()]).toEqual(['t'])

    b.doc.getText('t').insert(6, ' and after')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    expect(a.doc.getText('t').toString()).toBe('before and after')
    await until('A synced again', () => a.provider.synced, [on(a.provider, 'synced')])
    expect(a.provider.peers).toEqual([b.peer.selfId])
  })

  it('names peer, message type and byte length in the error', async () => {
    const a = mesh.add()
    await a.provider.whenSynced()
    const hostile = joinHostile(mesh)
    const victimId = await hostile.joined
    const frame = syncUpdateEnvelope(updateWithDeletions().slice(0, 10))
    void hostile.docAction.send(frame, { target: victimId })
    const [error] = await nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    expect(error.peerId).toBe(hostile.peer.selfId)
    expect(error.messageType).toBe('sync-update')
    expect(error.byteLength).toBe(frame.byteLength)
    expect(error.docName).toBe('')
    expect(error.message).toContain(hostile.peer.selfId)
    expect(error.message).toContain(`${frame.byteLength} bytes`)
  })

  it('drops frames over maxMessageBytes whole, and disconnects their sender', async () => {
    const a = mesh.add('room', { maxMessageBytes: 64 })
    await a.provider.whenSynced()
    const hostile = joinHostile(mesh)
    const victimId = await hostile.joined
    const big = new Y.Doc()
    big.getText('t').insert(0, 'x'.repeat(200))
    void hostile.docAction.send(encodeFrame([{ type: 'sync-update', update: Y.encodeStateAsUpdate(big) }]), { target: victimId })
    const [error] = await nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    expect(error).toMatchObject({ peerId: hostile.peer.selfId, messageType: docChannelKey(''), limit: 'maxMessageBytes', limitValue: 64 })
    expect(error.figure).toBe(error.byteLength)
    expect(error.byteLength).toBeGreaterThan(200)
    expect(a.doc.getText('t').toString()).toBe('')
    await mesh.network.settle()
    expect(Object.keys(a.provider.room!.getPeers())).toEqual([])
  })

  it('disconnects a peer over its message rate; the others keep syncing', async () => {
    const a = mesh.add('room', { limits: { maxMessagesPerSecond: 100 } })
    const b = mesh.add()
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    const hostile = joinHostile(mesh)
    const victimId = await hostile.joined
    const awareness = encodeFrame([{ type: 'awareness', update: Uint8Array.of(0) }])
    const refused = nextEvent<[TrysteroYjsError]>(a.provider, 'error', (e) => e.limit !== undefined)
    for (let i = 0; i < 1000; i++) void hostile.docAction.send(awareness, { target: victimId })
    const [error] = await refused
    expect(error).toMatchObject({ peerId: hostile.peer.selfId, limit: 'maxMessagesPerSecond', limitValue: 100 })
    expect(error.figure).toBeGreaterThan(100)
    expect(error.message).toMatch(/limit maxMessagesPerSecond = 100, reached \d+/)
    b.doc.getText('t').insert(0, 'still syncing')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    expect(Object.keys(a.provider.room!.getPeers())).toEqual([b.peer.selfId])
  })

  it('is never synced with a peer whose step 2 failed', async () => {
    const a = mesh.add()
    await a.provider.whenSynced()
    const hostile = joinHostile(mesh, true)
    // Answer any step 1 with a step 2 that does not decode.
    hostile.docAction.onMessage = (_data, { peerId }) => {
      void hostile.docAction.send(Uint8Array.of(0, 1, 4, 0xff, 0xff, 0xff, 0xff), { target: peerId })
    }
    await hostile.joined
    const [error] = await nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    expect(error.messageType).toBe('sync-step2')
    await mesh.network.settle()
    expect(a.provider.peers).toEqual([hostile.peer.selfId])
    expect(a.provider.synced).toBe(false)
  })

  it('ignores malformed and unknown room messages with a warning', async () => {
    const a = mesh.add()
    await a.provider.whenSynced()
    const hostile = joinHostile(mesh)
    const victimId = await hostile.joined
    const control = hostile.room.makeAction(roomChannelName)
    const warnings: TrysteroYjsError[] = []
    a.provider.on('warning', (w: TrysteroYjsError) => warnings.push(w))
    void control.send(Uint8Array.of(0, 1, 0, 0xff, 0xff, 0x03), { target: victimId })
    void control.send(Uint8Array.of(9), { target: victimId })
    void control.send('{"json": true}' as unknown as Uint8Array, { target: victimId })
    await until('3 warnings', () => warnings.length === 3, [on(a.provider, 'warning')])
    expect(warnings.map((w) => w.messageType)).toEqual(['hello', 'unknown(9)', 'string'])
    expect(mesh.network.handlerErrors).toEqual([])
  })

  it('keeps working when the app throws in its own peer handlers', async () => {
    const peerA = mesh.network.createPeer()
    const roomA = peerA.joinRoom({ appId }, 'room')
    const a: MemoryTestPeer = mesh.add('room', {}, peerA)
    expect(a.provider.roomId).toBe('room')
    roomA.onPeerLeave = () => { throw new Error('app bug') }
    const b = mesh.add()
    b.doc.getText('t').insert(0, 'fine')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
  })
})

describe('HELLO amplification over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('answers a flood of HELLOs asking for a reply once, not with a HELLO and a step 1 each', async () => {
    const a = mesh.add('room')
    // A state vector of many clients makes each answer big: what the flood would multiply.
    for (let client = 1; client <= 200; client++) {
      const other = new Y.Doc()
      other.clientID = client
      other.getText('t').insert(0, 'x')
      Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(other))
    }
    const hostile = joinHostile(mesh)
    const victimId = await hostile.joined
    const control = hostile.room.makeAction(roomChannelName)
    let hellosBack = 0
    let bytesBack = 0
    control.onMessage = (data: unknown) => {
      const message = decodeRoomMessage(data as Uint8Array)
      if (message?.type === 'hello') hellosBack++
      bytesBack += (data as Uint8Array).byteLength
    }
    hostile.docAction.onMessage = (data: unknown) => { bytesBack += (data as Uint8Array).byteLength }
    const hello = encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: true, channels: [docChannelKey('')], features: 0 })
    for (let i = 0; i < 100; i++) void control.send(hello, { target: victimId })
    await mesh.network.settle()
    expect(a.provider.peers).toContain(hostile.peer.selfId)
    // One HELLO when it joined and one for the first request; the other 99 requests are read as
    // plain HELLOs (PROTOCOL.md §2).
    expect(hellosBack).toBeLessThanOrEqual(2)
    expect(bytesBack).toBeLessThan(100 * hello.byteLength * 20)
  })
})
