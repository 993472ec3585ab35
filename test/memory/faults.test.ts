/**
 * The sync protocol under network faults that Trystero's ordered, reliable channels never
 * produce but real life (reconnects, relays, bugs) can: duplication, reordering, loss, partitions.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as prng from 'lib0/prng'
import type * as Y from 'yjs'
import { createMemoryMesh, fullMesh, type MemoryTestPeer } from '../support/memory-peers.js'
import { converged } from '../support/wait.js'

const read = (doc: Y.Doc): unknown => ({ text: doc.getText('t').toString(), list: doc.getArray('l').toArray() })

/** Random concurrent edits, a few per peer per round, seeded. */
const editRandomly = (peers: MemoryTestPeer[], seed: number, rounds: number): void => {
  const random = prng.create(seed)
  for (let round = 0; round < rounds; round++) {
    for (const { doc } of peers) {
      const text = doc.getText('t')
      if (text.length > 0 && prng.bool(random)) {
        const at = prng.uint32(random, 0, text.length - 1)
        text.delete(at, Math.min(prng.uint32(random, 1, 3), text.length - at))
      } else {
        text.insert(prng.uint32(random, 0, text.length), prng.word(random, 1, 4))
      }
      if (prng.bool(random)) doc.getArray('l').push([round])
    }
  }
}

describe('faults over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`converges under duplication and reordering without help (seed ${seed})`, async () => {
      await mesh.reset({ seed, latency: [1, 40], duplicate: 0.3, reorder: true })
      const peers = [mesh.add(), mesh.add(), mesh.add()]
      await fullMesh(peers)
      editRandomly(peers, seed, 30)
      await mesh.network.settle()
      await converged(peers.map(({ doc }) => doc), read)
      expect(mesh.network.stats.duplicated).toBeGreaterThan(0)
    })

    it(`converges under 30% loss with resyncInterval (seed ${seed})`, async () => {
      await mesh.reset({ seed, latency: [1, 20] })
      const peers = [mesh.add('room', { resyncInterval: 25 }), mesh.add('room', { resyncInterval: 25 }), mesh.add('room', { resyncInterval: 25 })]
      await fullMesh(peers)
      mesh.network.setFaults({ loss: 0.3, reorder: true })
      editRandomly(peers, seed, 30)
      await mesh.network.settle()
      expect(mesh.network.stats.dropped).toBeGreaterThan(0)
      mesh.network.setFaults({ loss: 0 })
      await converged(peers.map(({ doc }) => doc), read)
    })
  }

  it('merges what both sides of a partition wrote once it heals', async () => {
    await mesh.reset({ latency: [1, 10] })
    const peers = [mesh.add(), mesh.add(), mesh.add(), mesh.add()]
    await fullMesh(peers)
    const [a, b, c, d] = peers as [MemoryTestPeer, MemoryTestPeer, MemoryTestPeer, MemoryTestPeer]
    mesh.network.partition([a.peer.selfId, b.peer.selfId], [c.peer.selfId, d.peer.selfId])
    expect(a.provider.peers).toEqual([b.peer.selfId])
    a.doc.getText('t').insert(0, 'left side. ')
    c.doc.getText('t').insert(0, 'right side. ')
    await converged([a.doc, b.doc], read)
    await converged([c.doc, d.doc], read)
    expect(a.doc.getText('t').toString()).not.toBe(c.doc.getText('t').toString())
    mesh.network.heal()
    await converged(peers.map(({ doc }) => doc), read)
    expect(a.doc.getText('t').toString()).toContain('left side. ')
    expect(a.doc.getText('t').toString()).toContain('right side. ')
    await fullMesh(peers)
  })
})
