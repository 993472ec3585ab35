/**
 * Turns the document updates of one tick into one message. Two ways, each with a trap (measured
 * on the B4 document by `npm run bench -- coalescing`):
 *
 * - merging the updates (`Y.mergeUpdates`) gives the smallest message but grows superlinearly
 *   with their number (flat: 1,000 updates 21 ms, 5,000 updates 487 ms);
 * - encoding the document from its state vector before the burst is fast at any size, but carries
 *   the document's whole delete set, even for one keystroke (10.6 KB on B4).
 *
 * So a tick with few updates is merged — as they arrive, `fanout` at a time like a log-structured
 * merge tree, so each update is merged O(log n) times in small merges — and a tick with more than
 * `maxMerged` updates is encoded from the state vector, where the delete set is amortized.
 */
import * as Y from 'yjs'

const defaultFanout = 32
const defaultMaxMerged = 256

export interface UpdateCoalescerOptions {
  fanout?: number
  maxMerged?: number
  /** For tests: observe or replace the merge. */
  merge?: (updates: Uint8Array[]) => Uint8Array
}

export class UpdateCoalescer {
  private levels: Uint8Array[][] = []
  private count = 0
  /** Clocks before the first transaction of the tick: where a state-vector encoding starts. */
  private before: Map<number, number> | null = null
  private readonly fanout: number
  private readonly maxMerged: number
  private readonly merge: (updates: Uint8Array[]) => Uint8Array

  constructor (private readonly doc: Y.Doc, options: UpdateCoalescerOptions = {}) {
    this.fanout = options.fanout ?? defaultFanout
    this.maxMerged = options.maxMerged ?? defaultMaxMerged
    this.merge = options.merge ?? Y.mergeUpdates
  }

  /** Number of updates added since the last `take()`. */
  get size (): number {
    return this.count
  }

  /** `transaction` is the fourth argument of Y.Doc's `update` event. */
  add (update: Uint8Array, transaction: Y.Transaction): void {
    if (this.count++ === 0) this.before = transaction.beforeState
    if (this.count > this.maxMerged) {
      // From here on the state vector will be used: merging more would be wasted work.
      this.levels = []
      return
    }
    let carry = update
    for (let level = 0; ; level++) {
      const updates = this.levels[level] ??= []
      updates.push(carry)
      if (updates.length < this.fanout) return
      carry = this.merge(updates)
      this.levels[level] = []
    }
  }

  /** One update equivalent to everything added since the last call, or `null` if nothing was. */
  take (): Uint8Array | null {
    const { count, before } = this
    const pending = this.levels.flat()
    this.clear()
    if (count === 0) return null
    if (count > this.maxMerged) return Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(before!))
    return pending.length === 1 ? pending[0]! : this.merge(pending)
  }

  clear (): void {
    this.levels = []
    this.count = 0
    this.before = null
  }
}
