/**
 * Local document updates on their way out (PROTOCOL.md §3.3 steps 3 and 4): the updates of one
 * tick, merged into one message for every peer. Yjs encodes every transaction as an update only
 * while someone listens to `update`, so the outbox listens only while there is a peer to send to
 * (peers that join later get everything in their step 2) — and steps aside for the transactions
 * that apply a peer's update, which are never sent on: encoding a 311 KB step 2 again for nobody
 * took 50 ms of a cold initial sync (bench/results/sync-phases.md).
 */
import type * as Y from 'yjs'
import { UpdateCoalescer } from '../update-coalescer.js'

export class UpdateOutbox {
  private readonly coalescer: UpdateCoalescer
  private listening = false
  /** Our `update` listener is on (it is off during a transaction of our own origin). */
  private attached = false
  private flushQueued = false

  /**
   * `origin` is the provider: updates it applied came from a peer and are never sent again.
   * `send` receives one merged update per tick.
   */
  constructor (
    private readonly doc: Y.Doc,
    private readonly origin: unknown,
    private readonly send: (update: Uint8Array) => void
  ) {
    this.coalescer = new UpdateCoalescer(doc)
  }

  /** Listen to the document while there is someone to send to. */
  setListening (on: boolean): void {
    if (on === this.listening) return
    this.listening = on
    if (on) {
      this.doc.on('beforeObserverCalls', this.onBeforeObserverCalls)
      this.doc.on('beforeTransaction', this.reattach)
      this.doc.on('afterAllTransactions', this.reattach)
    } else {
      this.doc.off('beforeObserverCalls', this.onBeforeObserverCalls)
      this.doc.off('beforeTransaction', this.reattach)
      this.doc.off('afterAllTransactions', this.reattach)
      this.coalescer.clear()
    }
    this.attach(on)
  }

  /** Sends what this tick gathered now (before a disconnect, say). */
  flush (): void {
    const update = this.coalescer.take()
    if (update !== null) this.send(update)
  }

  private attach (on: boolean): void {
    if (on === this.attached) return
    this.attached = on
    if (on) this.doc.on('update', this.onUpdate)
    else this.doc.off('update', this.onUpdate)
  }

  /**
   * Yjs decides whether to encode a transaction after its observers, per transaction: a peer's
   * update, applied with our origin, is not encoded for us. Any other transaction — one an
   * observer starts meanwhile, the next one, or one after an exception cut a cleanup short —
   * finds the listener back (`beforeTransaction`, `beforeObserverCalls`, `afterAllTransactions`).
   */
  private readonly onBeforeObserverCalls = (transaction: Y.Transaction): void => {
    this.attach(transaction.origin !== this.origin)
  }

  private readonly reattach = (): void => {
    if (this.listening) this.attach(true)
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, transaction: Y.Transaction): void => {
    if (origin === this.origin) return
    this.coalescer.add(update, transaction)
    if (this.flushQueued) return
    this.flushQueued = true
    queueMicrotask(() => {
      this.flushQueued = false
      if (this.listening) this.flush()
    })
  }
}
