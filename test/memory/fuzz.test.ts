/**
 * A seeded fuzz of hostile messages (test/support/hostile-fuzz.ts: random bytes, valid framing
 * around corrupt Yjs content, wrong types, huge varints, truncated updates, updates whose history
 * is missing, awareness with absurd clocks or huge JSON) from one peer, over the memory network.
 * Nothing may throw out of a handler, change what the victim's document shows, or stop its sync
 * with an honest third peer. The fuzzer's rates are allowed here (the rate limit would cut it off
 * early: it has its own test); what it leaves waiting is bounded by the pending limits.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docChannelKey, TrysteroYjsError } from '../../src/index.js'
import { encodeRoomMessage, protocolVersion, roomChannelName } from '../../src/protocol/room-messages.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import { generateHostileMessages, hostileKinds } from '../support/hostile-fuzz.js'
import { appId, createMemoryMesh, fullMesh } from '../support/memory-peers.js'
import { converged } from '../support/wait.js'

describe('fuzz: 10,000 generated hostile messages', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('leave the document as the honest peers made it, throw nowhere, and keep sync going (seed 20261201)', async () => {
    const lenient = { limits: { maxMessagesPerSecond: 1e9, maxBytesPerSecond: 1e12, maxPendingUpdates: 100_000, maxPendingBytes: 1e9 } }
    const victim = mesh.add('room', lenient)
    const honest = mesh.add('room')
    victim.doc.getText('t').insert(0, 'victim ')
    honest.doc.getMap('m').set('k', 'honest')
    await fullMesh([victim, honest])
    const reports: TrysteroYjsError[] = []
    victim.provider.on('error', (e: TrysteroYjsError) => reports.push(e))
    victim.provider.on('warning', (e: TrysteroYjsError) => reports.push(e))

    const fuzzer = mesh.network.createPeer()
    const room: TrysteroRoom = fuzzer.joinRoom({ appId }, 'room')
    const action = room.makeAction(docChannelKey(''))
    action.onMessage = () => {}
    room.makeAction(roomChannelName).onMessage = () => {}
    const target = await new Promise<string>((resolve) => { room.onPeerJoin = (id) => { if (id === victim.peer.selfId) resolve(id) } })
    void room.makeAction(roomChannelName).send(encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docChannelKey('')], features: 0 }), { target })

    const messages = generateHostileMessages(20261201, 10_000, victim.doc.clientID)
    expect(new Set(messages.map((m) => m.kind))).toEqual(new Set(hostileKinds))
    const shown = (doc: Y.Doc): unknown => ({ text: doc.getText('t').toString(), map: doc.getMap('m').toJSON() })
    for (let i = 0; i < messages.length; i++) {
      void action.send(messages[i]!.frame, { target })
      // Honest edits interleaved: they must keep flowing through the flood.
      if (i % 1000 === 0) honest.doc.getText('t').insert(0, `${i} `)
      if (i % 250 === 0) await mesh.network.settle()
    }
    await mesh.network.settle()
    await converged([victim.doc, honest.doc], shown)
    expect(mesh.network.handlerErrors).toEqual([])
    // Only the two honest peers' client ids in the document; the rest waits, bounded, or was refused.
    expect([...victim.doc.store.clients.keys()].sort()).toEqual([victim.doc.clientID, honest.doc.clientID].sort())
    expect(victim.doc.store.pendingStructs).toBeNull()
    expect(reports.length).toBeGreaterThan(5000)
    expect(reports.every((r) => r.peerId === fuzzer.selfId)).toBe(true)
    // A joiner after the flood (and the fuzzer gone) gets the honest document and nothing of the fuzz.
    await room.leave()
    const late = mesh.add('room')
    await fullMesh([victim, honest, late])
    await converged([victim.doc, late.doc], shown)
    expect([...late.doc.store.clients.keys()].sort()).toEqual([victim.doc.clientID, honest.doc.clientID].sort())
  }, 120_000)
})
