/**
 * Answers from the whole-state snapshot (PROTOCOL.md §3.3, point 2) over the memory network: a
 * peer that opens the document for the first time after others is answered from the holder's
 * snapshot, with what changed since as the step 2 that ends the answer, so that its `synced`
 * comes with the whole document in; a holder with `stateSnapshot: false` or a peer without compact
 * sync gets an answer encoded for it, as before.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { docChannelKey } from '../../src/index.js'
import { decodeFrame, encodeFrame, type DocMessage } from '../../src/protocol/doc-messages.js'
import { encodeRoomMessage, features, protocolVersion, roomChannelName } from '../../src/protocol/room-messages.js'
import type { TrysteroProviderOptions } from '../../src/index.js'
import { appId, createMemoryMesh, fullMesh, type MemoryMesh, type MemoryTestPeer } from '../support/memory-peers.js'
import { converged, nextEvent } from '../support/wait.js'

const docAction = docChannelKey('')

/** Per receiver, the sync messages (no step 1, no awareness) `from` sent it, in order. */
const answersFrom = (mesh: MemoryMesh, from: () => string): Map<string, string[]> => {
  const seen = new Map<string, string[]>()
  mesh.network.observeDeliveries((delivery) => {
    if (delivery.action !== docAction || delivery.from !== from()) return
    const types = decodeFrame(delivery.payload as Uint8Array).messages
      .filter((m: DocMessage) => m.type !== 'sync-step1' && m.type !== 'awareness')
      .map((m) => m.type === 'compact' ? `compact ${m.syncType}` : m.type)
    seen.set(delivery.to, [...(seen.get(delivery.to) ?? []), ...types])
  })
  return seen
}

const prose = (words: number): string => Array.from({ length: words }, (_, i) => ['peer', 'state', 'vector', 'room', 'yjs', 'text'][(i * 7) % 6]).join(' ')

/** The text `peer` holds at the moment it reports `synced` with `peers` others (alone, a provider is synced at once). */
const textAtSynced = (peer: MemoryTestPeer, peers: number): Promise<string> => new Promise((resolve) => {
  const onSynced = (synced: boolean): void => {
    if (!synced || peer.provider.peers.length < peers) return
    peer.provider.off('synced', onSynced)
    resolve(peer.doc.getText('text').toString())
  }
  peer.provider.on('synced', onSynced)
})

/** Without printing 40 KB of text when it fails. */
const expectSameText = (text: string, doc: Y.Doc): void => {
  const expected = doc.getText('text').toString()
  expect(text === expected, `${text.length} characters at synced, ${expected.length} in the holder's document`).toBe(true)
}

describe('answers from the whole-state snapshot', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  const holderWithTwoJoiners = async (holderOptions: TrysteroProviderOptions = {}, laterOptions: TrysteroProviderOptions = {}) => {
    let holderId = ''
    const answers = answersFrom(mesh, () => holderId)
    const a = mesh.add('room', holderOptions)
    holderId = a.peer.selfId
    a.doc.getText('text').insert(0, prose(8000))
    a.doc.getText('text').delete(200, 100)
    await a.provider.whenSynced()
    const b = mesh.add('room')
    await fullMesh([a, b])
    // Changed since the first peer's answer (which left the snapshot current): a little.
    a.doc.getText('text').insert(10, 'written after the first peer joined')
    a.doc.getText('text').delete(3000, 40)
    await converged([a.doc, b.doc], (d) => d.getText('text').toString())
    // B goes, so that C's synced waits for the holder's answer alone.
    await b.provider.destroy()
    const c = mesh.add('room', laterOptions)
    const atSynced = await textAtSynced(c, 1)
    return { a, b, c, atSynced, answers }
  }

  it('answers the first fresh peer with one step 2, the next with the snapshot and a step 2 of what changed since; synced comes with everything in', async () => {
    const { a, b, c, atSynced, answers } = await holderWithTwoJoiners()
    expectSameText(atSynced, a.doc)
    expect(Y.encodeStateAsUpdate(c.doc)).toEqual(Y.encodeStateAsUpdate(a.doc))
    // B: its answer, then the holder's later edits as they were typed.
    expect(answers.get(b.peer.selfId)).toEqual(['compact sync-step2', 'sync-update'])
    expect(answers.get(c.peer.selfId)).toEqual(['compact sync-update', 'sync-step2'])
  })

  it('keeps a V1 snapshot with compactSync: false, answered the same way', async () => {
    const { a, c, atSynced, answers } = await holderWithTwoJoiners({ compactSync: false })
    expectSameText(atSynced, a.doc)
    expect(answers.get(c.peer.selfId)).toEqual(['sync-update', 'sync-step2'])
  })

  it('sends the snapshot and what changed since as two frames, each within a receiver\'s maxMessageBytes that lets a whole step 2 through', async () => {
    const a = mesh.add('room', { compactSync: false })
    const text = a.doc.getText('text')
    text.insert(0, prose(8000))
    // 400 deletion ranges: the delete set, which both messages carry, is kilobytes.
    for (let i = 0; i < 400; i++) text.delete(i * 50, 2)
    await a.provider.whenSynced()
    const b = mesh.add('room')
    await fullMesh([a, b])
    text.insert(10, 'written after the first peer joined')
    await converged([a.doc, b.doc], (d) => d.getText('text').toString())
    await b.provider.destroy()
    // Room for a step 2 of the whole state, not for the snapshot and the rest in one frame.
    const limit = Y.encodeStateAsUpdate(a.doc).byteLength + 64
    const frames: Array<{ types: string[], bytes: number }> = []
    mesh.network.observeDeliveries((delivery) => {
      if (delivery.action !== docAction || delivery.from !== a.peer.selfId) return
      const types = decodeFrame(delivery.payload as Uint8Array).messages.map((m) => m.type).filter((t) => t !== 'sync-step1' && t !== 'awareness')
      if (types.length > 0) frames.push({ types, bytes: (delivery.payload as Uint8Array).byteLength })
    })
    const c = mesh.add('room', { compactSync: false, maxMessageBytes: limit })
    // C would disconnect A over a frame past its limit: an error, and never synced.
    const refused = nextEvent<[Error]>(c.provider, 'error').then(([error]) => { throw error })
    expectSameText(await Promise.race([textAtSynced(c, 1), refused]), a.doc)
    expect(frames.map((f) => f.types)).toEqual([['sync-update'], ['sync-step2']])
    expect(frames[0]!.bytes + frames[1]!.bytes).toBeGreaterThan(limit)
  })

  it('is not synced with the holder while the snapshot part of its answer waits unapplied, though the step 2 after it went in', async () => {
    const a = mesh.add('room')
    a.doc.getText('text').insert(0, prose(8000))
    await a.provider.whenSynced()
    const b = mesh.add('room')
    await fullMesh([a, b])
    // After B's answer (the snapshot): an edit of B's own, which the holder's rest will carry.
    b.doc.getText('text').insert(4000, 'typed by B')
    await converged([a.doc, b.doc], (d) => d.getText('text').toString())
    await b.provider.destroy()
    // M claims the holder's client id in its awareness, to every newcomer, before the holder's
    // own awareness can reach it: edits of that client from the holder now wait for M to show them.
    const m = mesh.network.createPeer()
    const room = m.joinRoom({ appId }, 'room')
    const control = room.makeAction(roomChannelName)
    const doc = room.makeAction(docAction)
    const claim = new Y.Doc()
    claim.clientID = a.doc.clientID
    const awareness = new Awareness(claim)
    awareness.setLocalState({ name: 'M' })
    const claimed = encodeAwarenessUpdate(awareness, [claim.clientID])
    awareness.destroy()
    room.onPeerJoin = (peerId) => {
      if (peerId === a.peer.selfId) return
      void control.send(encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docAction], features: features.heartbeat }), { target: peerId })
      void doc.send(encodeFrame([{ type: 'awareness', update: claimed }, { type: 'sync-step2', update: new Uint8Array([0, 0]) }]), { target: peerId })
    }
    // Its own re-ask of an overdue step 1 (syncTimeout) out of the way: what asks again below is the refusal.
    const c = mesh.add('room', { limits: { syncTimeout: 60_000 } })
    // Each time C says synced with the holder listed: how much of the document it had.
    const syncedWithHolder: number[] = []
    c.provider.on('synced', (synced: boolean) => { if (synced && c.provider.peers.includes(a.peer.selfId)) syncedWithHolder.push(c.doc.getText('text').length) })
    // The snapshot waits for M, which never shows it, and is refused after the wait (3 s).
    await nextEvent<[Error]>(c.provider, 'error', (error) => /carries edits of client/.test(error.message))
    expect(c.doc.getText('text').toString()).toBe('')
    // Until then C has nothing of the document, and must not say it is synced with the holder.
    expect(syncedWithHolder).toEqual([])
    // Still unanswered: C asks the holder again, at once.
    await new Promise<void>((resolve, reject) => {
      setTimeout(() => reject(new Error('C did not ask the holder again')), 5_000)
      mesh.network.observeDeliveries((delivery) => {
        if (delivery.action !== docAction || delivery.from !== c.peer.selfId || delivery.to !== a.peer.selfId) return
        if (decodeFrame(delivery.payload as Uint8Array).messages.some((message) => message.type === 'sync-step1')) resolve()
      })
    })
  })

  it('encodes each answer afresh with stateSnapshot: false, and for a peer that takes another format', async () => {
    const off = await holderWithTwoJoiners({ stateSnapshot: false })
    expectSameText(off.atSynced, off.a.doc)
    expect(off.answers.get(off.c.peer.selfId)).toEqual(['compact sync-step2'])
    await mesh.reset()
    const v1Peer = await holderWithTwoJoiners({}, { compactSync: false })
    expectSameText(v1Peer.atSynced, v1Peer.a.doc)
    expect(v1Peer.answers.get(v1Peer.c.peer.selfId)).toEqual(['sync-step2'])
  })
})
