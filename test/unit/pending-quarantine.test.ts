import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeStateAsUpdateWithoutPending, PendingQuarantine } from '../../src/sync/pending-quarantine.js'
import { craftUpdate, text } from '../support/craft-update.js'
import { seeded, shuffle } from '../support/seeded.js'

/** An update of a client nobody has seen from clock 0: valid, but its history is missing. */
const orphan = (i: number): Uint8Array =>
  craftUpdate({ clients: [{ client: 1_000_000 + i, clock: 1, structs: [text(`flood ${i}`, { root: 't' })] }] })

/** Two edits: `second` builds on `first` (typed by another client), so alone it must wait. */
const dependentPair = () => {
  const d = new Y.Doc()
  d.clientID = 4
  d.getText('t').insert(0, 'base ')
  const first = Y.encodeStateAsUpdate(d)
  const c = new Y.Doc()
  c.clientID = 3
  Y.applyUpdate(c, first)
  const before = Y.encodeStateVector(c)
  c.getText('t').insert(5, 'and more')
  c.getText('t').delete(0, 1)
  return { first, second: Y.encodeStateAsUpdate(c, before), expected: c.getText('t').toString() }
}

describe('PendingQuarantine', () => {
  it('keeps a flood of updates without history bounded per peer, reports the overflow, and keeps it out of the store and of step 2', () => {
    const doc = new Y.Doc()
    const quarantine = new PendingQuarantine(doc, { maxEntriesPerPeer: 50 })
    const overflows = []
    for (let i = 0; i < 1000; i++) {
      const report = quarantine.receive('attacker', orphan(i))
      expect(report.status).toBe('applied')
      if (report.status !== 'rejected' && report.overflow !== null) overflows.push(report.overflow)
    }
    expect(quarantine.held('attacker').entries).toBe(50)
    expect(overflows).toHaveLength(950)
    expect(overflows[0]).toMatchObject({ peerId: 'attacker', limit: 'entries', max: 50, figure: 51 })
    expect(doc.store.pendingStructs).toBeNull()
    expect(doc.store.pendingDs).toBeNull()
    // Step 2 carries nothing of it: the document integrated none of the flood.
    expect(Y.encodeStateAsUpdate(doc)).toEqual(Y.encodeStateAsUpdate(new Y.Doc()))
  })

  it('bounds a peer\'s bytes too, and other peers are not affected', () => {
    const doc = new Y.Doc()
    const quarantine = new PendingQuarantine(doc, { maxBytesPerPeer: 200 })
    let overflow = null
    for (let i = 0; overflow === null && i < 100; i++) {
      const report = quarantine.receive('attacker', orphan(i))
      if (report.status !== 'rejected') overflow = report.overflow
    }
    expect(overflow).toMatchObject({ peerId: 'attacker', limit: 'bytes', max: 200 })
    expect(overflow!.figure).toBeGreaterThan(200)
    expect(quarantine.held('attacker').bytes).toBeLessThanOrEqual(200)
    const honest = quarantine.receive('honest', orphan(500))
    expect(honest.status !== 'rejected' && honest.overflow).toBeNull()
    expect(quarantine.held('honest').entries).toBe(1)
  })

  it('holds an update that arrived before its history and applies it when the history comes', () => {
    const { first, second, expected } = dependentPair()
    const doc = new Y.Doc()
    const quarantine = new PendingQuarantine(doc, { origin: 'remote' })
    const early = quarantine.receive('peer-c', second)
    expect(early.status === 'applied' && early.waiting).toBe(true)
    expect(quarantine.held('peer-c').entries).toBe(1)
    expect(doc.store.pendingStructs).toBeNull()
    const late = quarantine.receive('peer-d', first)
    expect(late.status).toBe('applied')
    expect(late.status === 'applied' && late.retried.applied.map(({ peerId, outcome }) => [peerId, outcome.status])).toEqual([['peer-c', 'applied']])
    expect(quarantine.held().entries).toBe(0)
    expect(doc.getText('t').toString()).toBe(expected)
    expect(doc.store.pendingStructs).toBeNull()
    expect(doc.store.pendingDs).toBeNull()
  })

  it('holds a deletion of text not there yet and applies it when the text comes', () => {
    const a = new Y.Doc()
    a.clientID = 5
    a.getText('t').insert(0, 'hello world')
    const insert = Y.encodeStateAsUpdate(a)
    const b = new Y.Doc()
    Y.applyUpdate(b, insert)
    const before = Y.encodeStateVector(b)
    b.getText('t').delete(0, 6)
    const deletion = Y.encodeStateAsUpdate(b, before)
    const doc = new Y.Doc()
    const quarantine = new PendingQuarantine(doc)
    expect(quarantine.receive('b', deletion).status).toBe('applied')
    expect(quarantine.held('b').entries).toBe(1)
    expect(doc.store.pendingDs).toBeNull()
    quarantine.receive('a', insert)
    expect(doc.getText('t').toString()).toBe('world')
    expect(quarantine.held().entries).toBe(0)
  })

  it('ends converged whatever the order updates of 3 peers arrive in', () => {
    const peers = [1, 2, 3].map((client) => {
      const doc = new Y.Doc()
      doc.clientID = client
      return doc
    })
    const updates: Array<{ from: number, update: Uint8Array }> = []
    peers.forEach((doc, from) => doc.on('update', (update: Uint8Array, origin: unknown) => { if (origin !== 'sync') updates.push({ from, update }) }))
    // Each peer edits, then hears the others (so later edits build on others' history).
    for (let round = 0; round < 6; round++) {
      peers.forEach((doc, i) => {
        const t = doc.getText('t')
        t.insert(round % 2 === 0 ? 0 : t.length, `${i}:${round} `)
        if (t.length > 8) t.delete(2, 2)
        doc.getMap('m').set(`p${i}`, round)
      })
      const all = Y.mergeUpdates(peers.map((doc) => Y.encodeStateAsUpdate(doc)))
      peers.forEach((doc) => Y.applyUpdate(doc, all, 'sync'))
    }
    const own = updates
    const reference = peers[0]!
    for (let seed = 1; seed <= 5; seed++) {
      const doc = new Y.Doc()
      const quarantine = new PendingQuarantine(doc)
      let waited = 0
      for (const index of shuffle(own.map((_, i) => i), seeded(seed))) {
        const { from, update } = own[index]!
        const report = quarantine.receive(`peer-${from}`, update)
        expect(report.status).toBe('applied')
        if (report.status === 'applied' && report.waiting) waited++
      }
      expect(waited).toBeGreaterThan(0)
      expect(quarantine.held().entries).toBe(0)
      expect(doc.getText('t').toString()).toBe(reference.getText('t').toString())
      expect(doc.getMap('m').toJSON()).toEqual(reference.getMap('m').toJSON())
      expect(Y.encodeStateVector(doc)).toEqual(Y.encodeStateVector(reference))
    }
  })

  it('forgets a departed peer\'s entries', () => {
    const doc = new Y.Doc()
    const quarantine = new PendingQuarantine(doc)
    quarantine.receive('gone', orphan(1))
    quarantine.receive('gone', orphan(2))
    quarantine.receive('stays', orphan(3))
    expect(quarantine.dropPeer('gone')).toMatchObject({ entries: 2 })
    expect(quarantine.held()).toMatchObject({ entries: 1 })
    expect(quarantine.entriesOf('gone')).toEqual([])
  })

  it('keeps an update that can never apply without retrying it, as the document changes', () => {
    const doc = new Y.Doc()
    const quarantine = new PendingQuarantine(doc)
    // Two items each placed after the other: the bytes alone need nothing else, Yjs keeps both.
    const cycle = craftUpdate({
      clients: [
        { client: 7, clock: 0, structs: [text('a', { origin: [8, 0] })] },
        { client: 8, clock: 0, structs: [text('b', { origin: [7, 0] })] }
      ]
    })
    expect(quarantine.receive('p', cycle).status).toBe('applied')
    expect(quarantine.held('p').entries).toBe(1)
    expect(quarantine.retry().applied).toEqual([])
    doc.getText('t').insert(0, 'local edit')
    expect(quarantine.receive('q', craftUpdate({ clients: [{ client: 9, clock: 0, structs: [text('remote edit', { root: 't' })] }] })).status).toBe('applied')
    expect(quarantine.retry().applied).toEqual([])
    expect(quarantine.held('p').entries).toBe(1)
  })

  it('rejects a peer update that would make Yjs throw, without touching the document or the quarantine', () => {
    const doc = new Y.Doc()
    const quarantine = new PendingQuarantine(doc)
    quarantine.receive('p', orphan(1))
    const before = Y.encodeStateAsUpdate(doc)
    const report = quarantine.receive('p', craftUpdate({ clients: [{ client: 2, clock: 0, structs: [text('x', { root: 't' }), text('y', { origin: [2, 5] })] }] }))
    expect(report.status).toBe('rejected')
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
    expect(quarantine.held('p').entries).toBe(1)
  })
})

describe('encodeStateAsUpdateWithoutPending', () => {
  it('leaves out what Yjs keeps pending, which Y.encodeStateAsUpdate would send, and keeps it in the store', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'ours')
    Y.applyUpdate(doc, orphan(1))
    Y.applyUpdate(doc, craftUpdate({ clients: [], deletes: [{ client: 77, ranges: [[0, 3]] }] }))
    const pending = doc.store.pendingStructs
    expect(pending).not.toBeNull()
    const withPending = new Y.Doc()
    Y.applyUpdate(withPending, Y.encodeStateAsUpdate(doc))
    expect(withPending.store.pendingStructs).not.toBeNull()

    const step2 = encodeStateAsUpdateWithoutPending(doc)
    const receiver = new Y.Doc()
    Y.applyUpdate(receiver, step2)
    expect(receiver.getText('t').toString()).toBe('ours')
    expect(receiver.store.pendingStructs).toBeNull()
    expect(receiver.store.pendingDs).toBeNull()
    expect(doc.store.pendingStructs).toBe(pending)
    expect(doc.store.pendingDs).not.toBeNull()
    // Against a state vector too.
    const partial = encodeStateAsUpdateWithoutPending(doc, Y.encodeStateVector(receiver))
    expect(Y.decodeUpdate(partial).structs).toEqual([])
  })
})

