import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { UpdateBatch } from '../../src/update-batch.js'

const collectUpdates = (n: number): { updates: Uint8Array[], doc: Y.Doc } => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const text = doc.getText('t')
  for (let i = 0; i < n; i++) {
    if (i % 7 === 6) text.delete(0, 1)
    else text.insert(text.length, String(i % 10))
  }
  return { updates, doc }
}

describe('UpdateBatch', () => {
  it('returns null when empty and the update itself when alone', () => {
    const batch = new UpdateBatch()
    expect(batch.take()).toBeNull()
    const [update] = collectUpdates(1).updates
    batch.add(update!)
    expect(batch.take()).toBe(update)
    expect(batch.size).toBe(0)
  })

  for (const n of [2, 31, 32, 33, 1000, 1025]) {
    it(`merges ${n} updates into one equivalent to all of them`, () => {
      const { updates, doc } = collectUpdates(n)
      const batch = new UpdateBatch()
      for (const u of updates) batch.add(u)
      expect(batch.size).toBe(n)
      const merged = batch.take()!
      const replica = new Y.Doc()
      Y.applyUpdate(replica, merged)
      expect(replica.getText('t').toString()).toBe(doc.getText('t').toString())
      expect(Y.encodeStateVector(replica)).toEqual(Y.encodeStateVector(doc))
    })
  }

  it('merges each update O(log n) times, in merges of at most `fanout` updates', () => {
    const sizes: number[] = []
    const batch = new UpdateBatch((us) => { sizes.push(us.length); return Y.mergeUpdates(us) }, 4)
    for (const u of collectUpdates(64).updates) batch.add(u)
    batch.take()
    // 64 = 4^3: 16 merges at level 0, 4 at level 1, 1 at level 2, then the final take.
    expect(sizes.filter((s) => s === 4)).toHaveLength(21)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4)
  })
})
