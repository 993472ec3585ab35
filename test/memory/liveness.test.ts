/**
 * Peers that crash, pause, or never answer (PROTOCOL.md §2.3, §3.4), over the memory network:
 * `crash` and `pause` leave the connection up, as a killed tab or a stopped process does until
 * Trystero notices (~30 s in Node). Heartbeats here are shortened; the defaults are in the README.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { docChannelKey, TrysteroYjsError, type TrysteroProviderOptions } from '../../src/index.js'
import { decodeFrame, encodeFrame } from '../../src/protocol/doc-messages.js'
import { encodeRoomMessage, protocolVersion, roomChannelName } from '../../src/protocol/room-messages.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import { appId, createMemoryMesh, fullMesh } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

const quick: TrysteroProviderOptions = { limits: { heartbeatInterval: 50, heartbeatTimeout: 250, syncTimeout: 250 } }

describe('liveness and answers over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('a crashed peer leaves peers, awareness and synced within the heartbeat timeout', async () => {
    const [a, b, c] = [mesh.add('room', quick), mesh.add('room', quick), mesh.add('room', quick)]
    c.provider.awareness.setLocalStateField('user', { name: 'Cy' })
    await fullMesh([a, b, c])
    await until('Cy at A', () => a.provider.awareness.getStates().has(c.doc.clientID), [on(a.provider.awareness, 'change')])
    const warned = nextEvent<[TrysteroYjsError]>(a.provider, 'warning', (w) => /silent for/.test(w.message))
    mesh.network.crash(c.peer.selfId)
    const [warning] = await warned
    expect(warning.peerId).toBe(c.peer.selfId)
    await until('C gone at A and B', () => [a, b].every(({ provider }) => provider.peers.length === 1 && provider.synced),
      [a, b].flatMap(({ provider }) => [on(provider, 'peers'), on(provider, 'synced')]))
    expect(a.provider.awareness.getStates().has(c.doc.clientID)).toBe(false)
    // The room goes on without it.
    a.doc.getText('t').insert(0, 'still here')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
  })

  it('a paused peer is taken for gone, then catches up both ways when it resumes', async () => {
    const [a, b] = [mesh.add('room', quick), mesh.add('room', quick)]
    a.doc.getText('t').insert(0, 'shared ')
    await fullMesh([a, b])
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    mesh.network.pause(b.peer.selfId)
    await until('A takes B for gone', () => a.provider.peers.length === 0, [on(a.provider, 'peers')])
    a.doc.getText('t').insert(7, 'while B slept, ')
    b.doc.getText('t').insert(0, '(B, paused) ')
    mesh.network.resume(b.peer.selfId)
    await fullMesh([a, b])
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    expect(a.doc.getText('t').toString()).toBe('(B, paused) shared while B slept, ')
  })

  it('a peer that announces the document and never answers step 1 stops blocking synced, is reported, and is asked again', async () => {
    const a = mesh.add('room', quick)
    const silent = mesh.network.createPeer()
    const room: TrysteroRoom = silent.joinRoom({ appId }, 'room')
    const steps1: number[] = []
    room.makeAction(docChannelKey('')).onMessage = (data) => {
      if (decodeFrame(data).messages.some((m) => m.type === 'sync-step1')) steps1.push(Date.now())
    }
    room.makeAction(roomChannelName).onMessage = () => {}
    room.onPeerJoin = (peerId) => {
      // Without the heartbeat feature it is not judged by its silence to PINGs: only by its answers.
      void room.makeAction(roomChannelName).send(encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docChannelKey('')], features: 0 }), { target: peerId })
    }
    await until('A sees the silent peer', () => a.provider.peers.length === 1, [on(a.provider, 'peers')])
    expect(a.provider.synced).toBe(false)
    const [warning] = await nextEvent<[TrysteroYjsError]>(a.provider, 'warning', (w) => /unanswered/.test(w.message))
    expect(warning.peerId).toBe(silent.selfId)
    await until('A synced without it', () => a.provider.synced, [on(a.provider, 'synced')])
    await mesh.network.settle()
    expect(steps1.length).toBeGreaterThanOrEqual(2)
    expect(a.provider.peers).toEqual([silent.selfId])
  })

  it('a peer that keeps sending other messages but never answers step 1 still stops blocking synced', async () => {
    const a = mesh.add('room', quick)
    const chatty = mesh.network.createPeer()
    const room: TrysteroRoom = chatty.joinRoom({ appId }, 'room')
    const docAction = room.makeAction(docChannelKey(''))
    docAction.onMessage = () => {}
    room.makeAction(roomChannelName).onMessage = () => {}
    const presence = new Awareness(new Y.Doc())
    presence.setLocalStateField('user', { name: 'chatty' })
    let chatter: ReturnType<typeof setInterval> | null = null
    room.onPeerJoin = (peerId) => {
      void room.makeAction(roomChannelName).send(encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docChannelKey('')], features: 0 }), { target: peerId })
      // Its cursor, five times per syncTimeout: traffic on the document that is no answer.
      chatter = setInterval(() => {
        presence.setLocalStateField('tick', Date.now())
        void docAction.send(encodeFrame([{ type: 'awareness', update: encodeAwarenessUpdate(presence, [presence.clientID]) }]), { target: peerId })
      }, 50)
    }
    try {
      await until('A sees the chatty peer', () => a.provider.peers.length === 1, [on(a.provider, 'peers')])
      const [warning] = await nextEvent<[TrysteroYjsError]>(a.provider, 'warning', (w) => /unanswered/.test(w.message))
      expect(warning.peerId).toBe(chatty.selfId)
      await until('A synced without it', () => a.provider.synced, [on(a.provider, 'synced')])
    } finally {
      if (chatter !== null) clearInterval(chatter)
      presence.destroy()
    }
  })

  it('step 1 floods get at most one answer on its way per peer: the rest are folded into the latest', async () => {
    await mesh.reset({ latency: 20 })
    const a = mesh.add('room', quick)
    a.doc.getText('t').insert(0, 'x'.repeat(100_000))
    const flooder = mesh.network.createPeer()
    const room: TrysteroRoom = flooder.joinRoom({ appId }, 'room')
    const action = room.makeAction(docChannelKey(''))
    let answers = 0
    let secondAnswered = (): void => {}
    const second = new Promise<void>((resolve) => { secondAnswered = resolve })
    action.onMessage = (data) => {
      if (!decodeFrame(data).messages.some((m) => m.type === 'sync-step2')) return
      if (++answers === 2) secondAnswered()
    }
    const victim = await new Promise<string>((resolve) => { room.onPeerJoin = resolve })
    const step1 = encodeFrame([{ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) }])
    for (let i = 0; i < 500; i++) void action.send(step1, { target: victim })
    // The first is answered at once; all others arrive while it travels, and make one more answer
    // (spaced by ten times the first one's encoding, PROTOCOL.md §3.3), and no other.
    await second
    await mesh.network.settle()
    expect(answers).toBe(2)
  })
})
