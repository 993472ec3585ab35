/**
 * A Y.Doc bound to its room's store: loaded from it, and every update the document applies from
 * then on (from a peer, from upstream) appended to it synchronously, inside Yjs's `update` event.
 * The store listens before anyone else (the provider and the upstream bridge subscribe later),
 * so an update is on disk before any of them can answer with it or pass it on.
 *
 * Compaction rewrites the rows as the document's single merged state, once the rows appended
 * since the last compaction outweigh the document itself: the store stays within about twice
 * the document's size, however long it is edited.
 */
import * as Y from 'yjs'
import { KeeperError } from './keeper-error.js'
import type { RoomStore, RoomStoreStats } from './room-store.js'

export interface CompactionPolicy {
  /** Compact once this many bytes were appended since the last compaction… Default 256 KiB. */
  minBytes: number
  /** …and more than the document's own state; or once this many updates were appended. Default 10,000. */
  maxUpdates: number
}

/**
 * A compaction encodes and writes the whole document (B4, 311 KB: ~140 ms): waiting until the
 * appended updates outweigh the document keeps its cost per edit small, and the store within
 * about twice the document plus the row overhead of the updates since.
 */
export const defaultCompaction: CompactionPolicy = { minBytes: 256 * 1024, maxUpdates: 10_000 }

/** What loading a room's store read, and how long it took. */
export interface LoadStats extends RoomStoreStats {
  /** Time to read the rows and apply them, in ms. */
  ms: number
}

type Report = (kind: 'error' | 'warning', error: KeeperError) => void

export class StoredDoc {
  private appendedBytes = 0
  private appendedUpdates = 0
  /** Bytes of the state written by the last compaction (or loaded), the yardstick for the next. */
  private stateBytes: number
  private compactionQueued: ReturnType<typeof setImmediate> | null = null
  private closed = false

  private constructor (
    readonly doc: Y.Doc,
    readonly store: RoomStore,
    private readonly policy: CompactionPolicy,
    private readonly report: Report,
    loaded: LoadStats
  ) {
    this.stateBytes = loaded.updateBytes
    doc.on('update', this.onUpdate)
    // Several rows (a previous run's appends): merge them now rather than at the next threshold.
    if (loaded.updates > 1) this.queueCompaction()
  }

  /**
   * Reads the store into a new document. Throws a `KeeperError` naming the room and file if a
   * row is unreadable or is not a Yjs update; the store is left open for the caller to close.
   */
  static load (store: RoomStore, policy: CompactionPolicy, report: Report): { stored: StoredDoc, stats: LoadStats } {
    const started = performance.now()
    const rows = store.readUpdates()
    const doc = new Y.Doc()
    try {
      // One transaction: observers (none yet) and Yjs's own bookkeeping run once, not per row.
      doc.transact(() => {
        for (const row of rows) Y.applyUpdate(doc, row)
      })
    } catch (error) {
      doc.destroy()
      throw new KeeperError('room store holds an update that Yjs cannot apply', { roomId: store.roomId, path: store.path, cause: error })
    }
    const stats: LoadStats = { ...store.stats(), ms: performance.now() - started }
    if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
      // Kept and served: the missing updates may still come from a peer, which resolves them.
      report('warning', new KeeperError('room store lacks updates that some of its updates depend on; they wait for a peer to supply them', {
        roomId: store.roomId, path: store.path
      }))
    }
    return { stored: new StoredDoc(doc, store, policy, report, stats), stats }
  }

  private readonly onUpdate = (update: Uint8Array): void => {
    try {
      this.store.append(update)
    } catch (error) {
      // The update is in the document but not on disk: a compaction writes the whole state,
      // this update included, as soon as the store takes writes again.
      this.report('error', new KeeperError('could not store an update; retrying with a compaction', {
        roomId: this.store.roomId, path: this.store.path, byteLength: update.byteLength, cause: error
      }))
      this.queueCompaction()
      return
    }
    this.appendedBytes += update.byteLength
    this.appendedUpdates++
    if ((this.appendedBytes > this.policy.minBytes && this.appendedBytes > this.stateBytes) || this.appendedUpdates > this.policy.maxUpdates) {
      this.queueCompaction()
    }
  }

  private queueCompaction (): void {
    if (this.compactionQueued !== null || this.closed) return
    // Outside Yjs's update event, and after the updates of this tick.
    this.compactionQueued = setImmediate(() => {
      this.compactionQueued = null
      this.compactNow()
    })
  }

  /** Rewrites the store as one update: the document's state. Reports failures, never throws. */
  compactNow (): void {
    if (this.closed) return
    try {
      const state = Y.encodeStateAsUpdate(this.doc)
      this.store.replaceAll(state)
      this.stateBytes = state.byteLength
      this.appendedBytes = 0
      this.appendedUpdates = 0
    } catch (error) {
      this.report('error', new KeeperError('compaction failed; the stored updates are kept as they were', {
        roomId: this.store.roomId, path: this.store.path, cause: error
      }))
    }
  }

  stats (): RoomStoreStats {
    return this.store.stats()
  }

  /** Compacts if anything changed, stops listening, closes the store. The document stays usable. */
  close (): void {
    if (this.closed) return
    const pending = this.compactionQueued !== null || this.appendedUpdates > 0
    if (this.compactionQueued !== null) clearImmediate(this.compactionQueued)
    this.compactionQueued = null
    if (pending) this.compactNow()
    this.closed = true
    this.doc.off('update', this.onUpdate)
    this.store.close()
  }
}
