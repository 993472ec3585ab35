/**
 * Collects the document updates of one tick and merges them into one message.
 *
 * `Y.mergeUpdates` over n updates grows superlinearly (measured on the B4 document: 1,000
 * updates 39 ms flat, 4 ms when merged 32 at a time), and encoding from a state vector instead
 * drags along the document's whole delete set (10.6 KB per flush on B4). So updates are merged as
 * they arrive, like a log-structured merge tree: every `fanout` updates on one level are merged
 * into one update on the next level. Each update is merged O(log n) times and each merge is small.
 */
import * as Y from 'yjs'

const defaultFanout = 32

export class UpdateBatch {
  private levels: Uint8Array[][] = []
  private count = 0

  constructor (
    private readonly merge: (updates: Uint8Array[]) => Uint8Array = Y.mergeUpdates,
    private readonly fanout = defaultFanout
  ) {}

  /** Number of updates added since the last `take()`. */
  get size (): number {
    return this.count
  }

  add (update: Uint8Array): void {
    this.count++
    let carry = update
    for (let level = 0; ; level++) {
      const updates = this.levels[level] ??= []
      updates.push(carry)
      if (updates.length < this.fanout) return
      carry = this.merge(updates)
      this.levels[level] = []
    }
  }

  /** The merge of everything added since the last call, or `null` if nothing was. */
  take (): Uint8Array | null {
    const pending = this.levels.flat()
    this.levels = []
    this.count = 0
    if (pending.length === 0) return null
    return pending.length === 1 ? pending[0]! : this.merge(pending)
  }

  clear (): void {
    this.levels = []
    this.count = 0
  }
}
