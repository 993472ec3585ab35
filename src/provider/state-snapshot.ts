/**
 * The document's whole state, encoded before a new peer asks for it (PROTOCOL.md §3.3, point 2).
 *
 * A peer that opens a document for the first time sends an empty state vector: its step 2 is the
 * whole document. Encoding it (and, with compact sync, compressing it) took the holder 27–47 ms of
 * B4's 108–148 ms initial sync (bench: sync-phases), on the new peer's time, while the holder sat
 * idle before. So, while the document is on a room, its whole state is encoded once the document
 * has been idle for a moment, and kept. A peer with an empty state vector is answered from it:
 *
 * - the document has not changed since: the snapshot is the step 2;
 * - it changed a little (what changed since is at most a quarter of the snapshot): the snapshot
 *   goes as an Update, followed in the next frame by a step 2 of what changed since
 *   (`Y.encodeStateAsUpdate(doc, snapshotStateVector)`), so that `synced`, which waits for the
 *   step 2, still means everything is in. Two frames, not one: each is within the size of a step
 *   2 of the whole state, which a receiver's `maxMessageBytes` lets through, while their sum (the
 *   delete set travels twice) might not be;
 * - otherwise the snapshot is encoded again there and then (what every request cost before).
 *
 * CPU: one build when the document joins a room (at idle); after that, rebuilt at idle only once
 * a new peer was answered from it (peers do join this room), and at most 5% of the time (each
 * build at least 20 times its own cost after the last). Memory: the snapshot as it is sent
 * (compressed V2 with compact sync, V1 without), and none for a document whose state was found
 * over `maxSnapshotBytes`: that one is encoded for each new peer as before, and never ahead.
 */
import * as Y from 'yjs'
import type { DocMessage } from '../protocol/doc-messages.js'
import type { UpdateFormat } from '../sync/update-check.js'

/** A state this big (encoded, before compression) is not kept: 16 MiB. */
export const maxSnapshotBytes = 16 * 1024 * 1024

/** How long the document must be unchanged before a snapshot is built ahead of a request. */
export const snapshotIdleMs = 1000

/** A build spends at most 1/20 of the time since the last one (5%). */
const dutyFactor = 20

export interface StateSnapshotHost {
  readonly doc: Y.Doc
  /** The format the snapshot is kept in: the one our peers mostly take (`v2` with compact sync). */
  readonly format: UpdateFormat
  /** The integrated state beyond `stateVector` (never Yjs's pending structs), in `format`. */
  encode: (stateVector: Uint8Array, format: UpdateFormat) => Uint8Array
  /** The message that sends `update` (in `format`) to a peer taking that format, as `syncType`. */
  message: (syncType: 'sync-step2' | 'sync-update', update: Uint8Array, format: UpdateFormat) => DocMessage | Promise<DocMessage>
}

interface Snapshot {
  /** The document's state vector when it was encoded. */
  stateVector: Uint8Array
  /** The whole state as a step 2, ready to send (once compressed, with compact sync). */
  message: Promise<DocMessage>
  /** The encoded update's length (before compression). */
  updateBytes: number
  builtAt: number
  /** Encoding and compression, in ms. */
  cost: number
}

const emptyStateVector = Y.encodeStateVector(new Map())

export class StateSnapshot {
  private snapshot: Snapshot | null = null
  /** The document changed since the snapshot was encoded. */
  private changed = false
  /** A peer was answered from the snapshot since it was built: worth rebuilding at idle. */
  private demand = false
  private active = false
  /** The state was over `maxBytes` when last encoded: no snapshot is kept or built ahead any more. */
  private tooBig = false
  private lastChangeAt = 0
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor (
    private readonly host: StateSnapshotHost,
    private readonly now: () => number = () => performance.now(),
    private readonly maxBytes = maxSnapshotBytes
  ) {}

  /** The document is on a room: keep a snapshot from now on (the first one at the next idle moment). */
  activate (): void {
    if (this.active) return
    this.active = true
    this.lastChangeAt = this.now()
    // Not `afterTransaction`: an app listener of it registered before ours that throws stops
    // the others, and a change we miss is a snapshot served stale as a complete step 2.
    // `beforeObserverCalls` comes first, with the transaction's after state and delete set known.
    this.host.doc.on('beforeObserverCalls', this.onTransaction)
    this.arm(snapshotIdleMs)
  }

  /** Off the room: nothing kept, nothing scheduled. */
  deactivate (): void {
    if (!this.active) return
    this.active = false
    this.host.doc.off('beforeObserverCalls', this.onTransaction)
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.snapshot = null
    this.demand = false
    this.tooBig = false
  }

  /**
   * The messages answering an empty state vector from a peer that takes `format`, each to be sent
   * as its own frame, in this order; or `null` when the snapshot cannot serve it (another format,
   * inactive, a state found over `maxSnapshotBytes`): then the caller encodes the answer itself.
   * Throws what encoding throws.
   */
  answerFresh (format: UpdateFormat): Array<Promise<DocMessage>> | null {
    if (!this.active || format !== this.host.format || this.tooBig) return null
    this.demand = true
    const snapshot = this.snapshot
    if (snapshot !== null && !this.changed) return [snapshot.message]
    if (snapshot !== null) {
      const rest = this.host.encode(snapshot.stateVector, format)
      if (rest.byteLength <= snapshot.updateBytes / 4) {
        // Asked for while out of date: rebuilt at the next idle moment, even if nothing changes after.
        if (this.timer === null) this.arm(snapshotIdleMs)
        return [snapshot.message.then(asUpdate), Promise.resolve(this.host.message('sync-step2', rest, format))]
      }
    }
    const { update, snapshot: rebuilt } = this.build()
    // Over the size limit: this answer is the encoding just made, kept by nobody.
    return [rebuilt?.message ?? Promise.resolve(this.host.message('sync-step2', update, format))]
  }

  private readonly onTransaction = (transaction: Y.Transaction): void => {
    if (transaction.deleteSet.clients.size === 0 && sameState(transaction.beforeState, transaction.afterState)) return
    this.changed = true
    this.lastChangeAt = this.now()
    if (this.timer === null && !this.tooBig && (this.snapshot === null || this.demand)) this.arm(snapshotIdleMs)
  }

  private arm (delayMs: number): void {
    this.timer = setTimeout(this.onIdle, delayMs)
    // Work ahead of a request must not keep a Node process alive on its own.
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  private readonly onIdle = (): void => {
    this.timer = null
    if (!this.active || this.tooBig) return
    const now = this.now()
    const quietFor = now - this.lastChangeAt
    if (quietFor < snapshotIdleMs) return this.arm(snapshotIdleMs - quietFor)
    const snapshot = this.snapshot
    if (snapshot !== null && !(this.changed && this.demand)) return
    if (snapshot !== null && now - snapshot.builtAt < dutyFactor * snapshot.cost) return this.arm(dutyFactor * snapshot.cost - (now - snapshot.builtAt))
    try {
      this.build()
    } catch {
      // Yjs could not encode the document: the next request encodes it again and reports why.
      this.snapshot = null
    }
  }

  /**
   * Encodes the whole state now and keeps it as a snapshot, unless it is over `maxBytes`: then
   * nothing is kept (nor compressed: the caller decides whether anybody waits for it).
   */
  private build (): { update: Uint8Array, snapshot: Snapshot | null } {
    const start = this.now()
    const { format } = this.host
    const stateVector = Y.encodeStateVector(this.host.doc)
    const update = this.host.encode(emptyStateVector, format)
    this.changed = false
    this.demand = false
    if (update.byteLength > this.maxBytes) {
      this.tooBig = true
      this.snapshot = null
      return { update, snapshot: null }
    }
    const message = Promise.resolve(this.host.message('sync-step2', update, format))
    const snapshot: Snapshot = { stateVector, message, updateBytes: update.byteLength, builtAt: start, cost: this.now() - start }
    // Compression finishes later: its time counts towards the next build's distance too.
    void message.then(() => { snapshot.cost = this.now() - start }, () => {
      if (this.snapshot === snapshot) this.snapshot = null
    })
    this.snapshot = snapshot
    return { update, snapshot }
  }
}

/** The snapshot's message, sent as an Update (the step 2 that follows it completes the answer). */
const asUpdate = (message: DocMessage): DocMessage => {
  if (message.type === 'compact') return { ...message, syncType: 'sync-update' }
  if (message.type === 'sync-step2') return { type: 'sync-update', update: message.update }
  return message
}

const sameState = (before: Map<number, number>, after: Map<number, number>): boolean => {
  if (before.size !== after.size) return false
  for (const [client, clock] of after) if (before.get(client) !== clock) return false
  return true
}
