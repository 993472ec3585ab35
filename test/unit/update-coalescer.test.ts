import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { UpdateCoalescer, type UpdateCoalescerOptions } from '../../src/update-coalescer.js'

/** A document with history, a coalescer fed with the next `n` edits, and a replica of the start. */
const burst = (n: number, options: UpdateCoalescerOptions = {}) => {
  const doc = new Y.Doc()
  const text = doc.getText('t')
  text.insert(0, 'some history that gets partly deleted')
  text.delete(5, 8)
  const replica = new Y.Doc()
  Y.applyUpdate(replica, Y.encodeStateAsUpdate(doc))
  const coalescer = new UpdateCoalescer(doc, options)
  doc.on('update', (update: Uint8Array, _origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => coalescer.add(update, transaction))
  for (let i = 0; i < n; i++) {
    if (i % 7 === 6) text.delete(0, 1)
    else text.insert((i * 31) % (text.length + 1), String(i % 10))
  }
  return { doc, replica, coalescer }
}

describe('UpdateCoalescer', () => {
  it('returns null when empty and a lone update as it is', () => {
    const { coalescer } = burst(0)
    expect(coalescer.take()).toBeNull()
    const doc = new Y.Doc()
    const lone = new UpdateCoalescer(doc)
    let seen: Uint8Array | undefined
    doc.on('update', (u: Uint8Array, _o: unknown, _d: Y.Doc, t: Y.Transaction) => { seen = u; lone.add(u, t) })
    doc.getText('t').insert(0, 'x')
    expect(lone.take()).toBe(seen)
    expect(lone.size).toBe(0)
  })

  for (const n of [2, 31, 32, 33, 256, 257, 1000]) {
    it(`turns ${n} updates into one equivalent to all of them`, () => {
      const { doc, replica, coalescer } = burst(n)
      expect(coalescer.size).toBe(n)
      Y.applyUpdate(replica, coalescer.take()!)
      expect(replica.getText('t').toString()).toBe(doc.getText('t').toString())
      expect(Y.encodeStateVector(replica)).toEqual(Y.encodeStateVector(doc))
      expect(coalescer.size).toBe(0)
    })
  }

  it('merges each update O(log n) times, in merges of at most `fanout` updates', () => {
    const sizes: number[] = []
    const merge = (updates: Uint8Array[]): Uint8Array => { sizes.push(updates.length); return Y.mergeUpdates(updates) }
    burst(64, { fanout: 4, merge }).coalescer.take()
    // 64 = 4^3: 16 merges at level 0, 4 at level 1, 1 at level 2; the final take has 1 left.
    expect(sizes.filter((s) => s === 4)).toHaveLength(21)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4)
  })

  it('stops merging past maxMerged and encodes from the state vector before the burst', () => {
    const sizes: number[] = []
    const merge = (updates: Uint8Array[]): Uint8Array => { sizes.push(updates.length); return Y.mergeUpdates(updates) }
    const { doc, replica, coalescer } = burst(100, { fanout: 4, maxMerged: 10, merge })
    expect(sizes).toEqual([4, 4])
    Y.applyUpdate(replica, coalescer.take()!)
    expect(replica.getText('t').toString()).toBe(doc.getText('t').toString())
  })
})
