/**
 * A peer speaks only for itself (PROTOCOL.md §3.6): its cursor cannot be taken while it is away,
 * and edits under its client id that it never made are refused before they reach the document.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docChannelKey, TrysteroYjsError } from '../../src/index.js'
import { encodeAwarenessEntries } from '../../src/protocol/awareness-entries.js'
import { encodeFrame } from '../../src/protocol/doc-messages.js'
import { createMemoryMesh, fullMesh, type MemoryTestPeer } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

const sendFrame = (from: MemoryTestPeer, to: MemoryTestPeer, frame: Uint8Array): void => {
  void from.provider.room!.makeAction(docChannelKey('')).send(frame, { target: to.peer.selfId })
}

describe('identity: cursors and client ids belong to the peer that announced them', () => {
  const mesh = createMemoryMesh({ latency: [1, 20], seed: 3 })
  afterEach(async () => await mesh.reset())

  it("a peer cannot take the cursor of a peer that is away; the owner gets it back when it returns", async () => {
    const [a, c, h] = [mesh.add(), mesh.add(), mesh.add()]
    c.provider.awareness.setLocalStateField('user', { name: 'Cleo' })
    await fullMesh([a, c, h])
    await until('Cleo at A', () => a.provider.awareness.getStates().get(c.doc.clientID)?.['user'] !== undefined, [on(a.provider.awareness, 'change')])
    await c.provider.disconnect()
    await until('C gone at A', () => !a.provider.awareness.getStates().has(c.doc.clientID), [on(a.provider.awareness, 'change')])
    const warned = nextEvent<[TrysteroYjsError]>(a.provider, 'warning', (w) => /awareness entry/.test(w.message))
    sendFrame(h, a, encodeFrame([{ type: 'awareness', update: encodeAwarenessEntries([{ clientID: c.doc.clientID, clock: 99, state: { user: { name: 'Cleo' }, cursor: 'forged' } }]) }]))
    const [warning] = await warned
    expect(warning.peerId).toBe(h.peer.selfId)
    expect(warning.message).toMatch(new RegExp(`peer ${c.peer.selfId} speaks for it`))
    expect(a.provider.awareness.getStates().has(c.doc.clientID)).toBe(false)
    await c.provider.connect()
    await until('Cleo back at A', () => a.provider.awareness.getStates().get(c.doc.clientID)?.['user'] !== undefined, [on(a.provider.awareness, 'change')])
    expect(a.provider.awareness.getStates().get(c.doc.clientID)).not.toHaveProperty('cursor')
  })

  it("an update forged under a connected peer's client id is held, then refused unapplied when that peer does not vouch for it", async () => {
    const [a, c, h] = [mesh.add(), mesh.add(), mesh.add()]
    c.doc.getText('t').insert(0, 'hello')
    await fullMesh([a, c, h])
    await converged([a.doc, c.doc, h.doc], (d) => d.getText('t').toString())
    // H writes as C, at C's next clock.
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(c.doc))
    // After the remote update: Yjs gives a doc a new client id when a remote update uses its own.
    forger.clientID = c.doc.clientID
    const before = Y.encodeStateVector(forger)
    forger.getText('t').insert(5, ' forged')
    const forged = Y.encodeStateAsUpdate(forger, before)
    const stateBefore = Y.encodeStateAsUpdate(a.doc)
    const refused = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    sendFrame(h, a, encodeFrame([{ type: 'sync-update', update: forged }]))
    const [error] = await refused
    expect(error.peerId).toBe(h.peer.selfId)
    expect(error.message).toMatch(new RegExp(`edits of client ${c.doc.clientID}, which belongs to peer ${c.peer.selfId}`))
    expect(Y.encodeStateAsUpdate(a.doc)).toEqual(stateBefore)
    // C's real edit, at the clock H tried to take, reaches A: no silent divergence.
    c.doc.getText('t').insert(5, ' world')
    await converged([a.doc, c.doc], (d) => d.getText('t').toString())
    expect(a.doc.getText('t').toString()).toBe('hello world')
  })

  it("a forged update that the owner's own edit overtakes adds nothing: the owner's version is kept", async () => {
    const [a, c, h] = [mesh.add(), mesh.add(), mesh.add()]
    c.doc.getText('t').insert(0, 'hello')
    await fullMesh([a, c, h])
    await converged([a.doc, c.doc, h.doc], (d) => d.getText('t').toString())
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(c.doc))
    forger.clientID = c.doc.clientID
    const before = Y.encodeStateVector(forger)
    forger.getText('t').insert(5, ' forged')
    const errors: TrysteroYjsError[] = []
    a.provider.on('error', (error: TrysteroYjsError) => errors.push(error))
    sendFrame(h, a, encodeFrame([{ type: 'sync-update', update: Y.encodeStateAsUpdate(forger, before) }]))
    await mesh.network.settle()
    expect(a.doc.getText('t').toString()).toBe('hello')
    c.doc.getText('t').insert(5, ' and welcome')
    await converged([a.doc, c.doc], (d) => d.getText('t').toString())
    expect(a.doc.getText('t').toString()).toBe('hello and welcome')
    expect(errors).toEqual([])
  })

  it('an update forged under our own client id is refused', async () => {
    const [a, h] = [mesh.add(), mesh.add()]
    a.doc.getText('t').insert(0, 'mine')
    await fullMesh([a, h])
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(a.doc))
    forger.clientID = a.doc.clientID
    const before = Y.encodeStateVector(forger)
    forger.getText('t').insert(0, 'not ')
    const refused = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    sendFrame(h, a, encodeFrame([{ type: 'sync-update', update: Y.encodeStateAsUpdate(forger, before) }]))
    expect((await refused)[0].message).toMatch(/which belongs to us/)
    expect(a.doc.getText('t').toString()).toBe('mine')
  })

  it('no false alarm: 4 peers joining at different times and editing concurrently converge without refusing anything', async () => {
    await mesh.reset({ latency: [1, 40], seed: 11 })
    const peers: MemoryTestPeer[] = []
    const errors: TrysteroYjsError[] = []
    for (let round = 0; round < 4; round++) {
      const peer = mesh.add()
      peer.provider.on('error', (error: TrysteroYjsError) => errors.push(error))
      peers.push(peer)
      for (let i = 0; i < 30; i++) {
        const editor = peers[i % peers.length]!
        editor.doc.getText('t').insert(0, `${round}.${i} `)
        if (i % 7 === 0) await mesh.network.settle()
      }
    }
    await fullMesh(peers)
    await converged(peers.map((p) => p.doc), (d) => d.getText('t').toString())
    expect(errors).toEqual([])
  })
})
