/**
 * Local document updates on their way out (PROTOCOL.md §3.3 steps 3 and 4): the updates of one
 * tick, merged into one message for every peer. Yjs encodes every transaction as an update only
 * while someone listens to `update`, so the outbox listens only while there is a peer to send to
 * (peers that join later get everything in their step 2).
 */
import type * as Y from 'yjs'
import { UpdateCoalescer } from '../update-coalescer.js'

export class UpdateOutbox {
  private readonly coalescer: UpdateCoalescer
  private listening = false
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
      this.doc.on('update', this.onUpdate)
    } else {
      this.doc.off('update', this.onUpdate)
      this.coalescer.clear()
    }
  }

  /** Sends what this tick gathered now (before a disconnect, say). */
  flush (): void {
    const update = this.coalescer.take()
    if (update !== null) this.send(update)
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
