/**
 * A document's frames on their way in (PROTOCOL.md §3.7): compact messages are expanded (inflated,
 * within the size the sender announced and `maxMessageBytes`) into the V2 step 2 or update they
 * stand for; every message is handed on in the order the peer sent it. A peer's messages that
 * arrive while one of its compact messages is being inflated wait behind it; a message from a peer
 * with nothing waiting is handed on at once, in the same turn, as without compact sync.
 */
import { TrysteroYjsError } from '../errors.js'
import type { CompactMessage, DocMessage } from '../protocol/doc-messages.js'
import { inflateRaw } from './deflate-raw.js'
import { PeerOrder } from './peer-order.js'

/** A compact message, expanded: the Yjs V2 update it carries. */
export interface ExpandedUpdate {
  type: 'sync-step2' | 'sync-update'
  update: Uint8Array
  format: 'v2'
}

/** What the session handles: the y-protocols messages, and expanded compact ones. */
export type IncomingMessage = Exclude<DocMessage, CompactMessage> | ExpandedUpdate

export interface CompactReceiverHost {
  readonly docName: string
  /** Whether we set `compactSync`: with `false`, no COMPACT message is inflated or applied. */
  accepting: () => boolean
  readonly maxMessageBytes: number
  /**
   * Counts bytes the peer makes us process, and `messages` more messages, against its rates, as if
   * it had sent them (`ChannelHandle.charge`); `false` once it went over and was disconnected.
   */
  charge: (peerId: string, bytes: number, messageType: string, messages?: number) => boolean
  /** The peer broke a limit: report and disconnect it. */
  disconnect: (peerId: string, error: TrysteroYjsError) => void
  /** The peer is connected and admitted now (`ChannelHandle.isAdmitted`): not gone, not refused. */
  admitted: (peerId: string) => boolean
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

export class CompactReceiver {
  private readonly order: PeerOrder
  /**
   * Per peer with messages waiting, until none is left or it closes the document: what becomes of
   * them. Each waiting message holds its peer's record; `peerClosed` settles it (`dropped` for a
   * refused peer, `kept` for one that left in peace), and later messages get another.
   */
  private readonly waiting = new Map<string, { fate: 'open' | 'dropped' | 'kept' }>()

  constructor (private readonly host: CompactReceiverHost) {
    this.order = new PeerOrder((peerId, error) => {
      // Thrown by the handler: an observer of the document or awareness (app code).
      host.report('error', new TrysteroYjsError('handling a message failed', { peerId, docName: host.docName, cause: error }))
    })
  }

  /**
   * Hands each of a frame's messages to `handle`, in the peer's order. A compact message is checked
   * and charged on arrival, and inflated in its turn: one inflation per peer at a time, so that a
   * frame of thousands of compact messages (a few bytes each) holds one decompression stream, not
   * thousands (measured in Node 20: 30,000 at once took 870 MB and 30 s). A peer that goes over a
   * limit is disconnected, and the rest of its frame dropped.
   */
  deliver (peerId: string, messages: DocMessage[], byteLength: number, handle: (message: IncomingMessage) => void): void {
    for (const message of messages) {
      if (message.type !== 'compact') {
        // Nothing of this peer's waiting (the common case): handled now, as without compact sync.
        if (this.order.busy(peerId)) {
          const record = this.recordOf(peerId)
          this.wait(peerId, () => { if (this.live(peerId, record)) handle(message) })
        } else handle(message)
        continue
      }
      const admission = this.admit(message, peerId, byteLength)
      if (admission === 'over') return
      if (admission === 'dropped') continue
      const record = this.recordOf(peerId)
      this.wait(peerId, message.compressed
        ? async () => {
          // A peer refused meanwhile costs no inflation either.
          if (!this.live(peerId, record)) return
          const update = await this.inflate(message, peerId, byteLength)
          if (update !== null && this.live(peerId, record)) handle(update)
        }
        : () => { if (this.live(peerId, record)) handle(expanded(message, message.payload)) })
    }
  }

  /** Queues a step behind the peer's; once none is left, its record goes (a peer that never closes would keep it). */
  private wait (peerId: string, step: () => void | Promise<void>): void {
    void this.order.enqueue(peerId, step).then(() => {
      if (!this.order.busy(peerId) && this.waiting.get(peerId)?.fate === 'open') this.waiting.delete(peerId)
    })
  }

  /**
   * The peer closed the document or left. `refused`: we disconnected it (a limit, a violation):
   * its messages still waiting here (behind an inflation) are dropped, as the hub drops what it
   * sends from now on. A peer that left in peace keeps them: they are its last edits.
   */
  peerClosed (peerId: string, refused: boolean): void {
    const waiting = this.waiting.get(peerId)
    if (waiting === undefined) return
    waiting.fate = refused ? 'dropped' : 'kept'
    this.waiting.delete(peerId)
  }

  /** The record a message about to wait holds: the peer's current one. */
  private recordOf (peerId: string): { fate: 'open' | 'dropped' | 'kept' } {
    let waiting = this.waiting.get(peerId)
    if (waiting === undefined) this.waiting.set(peerId, waiting = { fate: 'open' })
    return waiting
  }

  /**
   * Whether a waiting message may still be handled: not if its peer was refused. A peer that never
   * opened the document is never closed for it (`peerClosed` does not come): if it is no longer
   * admitted when its message comes up, it was refused or is gone, and nothing vouches for it.
   */
  private live (peerId: string, record: { fate: 'open' | 'dropped' | 'kept' }): boolean {
    if (record.fate === 'open' && !this.host.admitted(peerId)) {
      record.fate = 'dropped'
      if (this.waiting.get(peerId) === record) this.waiting.delete(peerId)
    }
    return record.fate !== 'dropped'
  }

  /**
   * Within the limits: the size it announces, and the peer's rates, where it counts as a message of
   * its own (each may start a decompression stream) and as the bytes it announces.
   */
  private admit (message: CompactMessage, peerId: string, byteLength: number): 'admitted' | 'dropped' | 'over' {
    const { docName, maxMessageBytes } = this.host
    const messageType = `compact ${message.syncType}`
    if (!this.host.accepting()) {
      // What a version 1 peer would do with it (an unknown type), without dropping the rest of the frame.
      this.host.report('error', new TrysteroYjsError('compact message dropped: this provider does not accept compact sync (compactSync: false)', {
        peerId, messageType, byteLength, docName
      }))
      return 'dropped'
    }
    if (message.updateBytes > maxMessageBytes) {
      this.host.disconnect(peerId, new TrysteroYjsError('compact message announcing an update over the size limit; peer disconnected', {
        peerId, messageType, byteLength, docName, limit: 'maxMessageBytes', limitValue: maxMessageBytes, figure: message.updateBytes
      }))
      return 'over'
    }
    return this.host.charge(peerId, message.updateBytes, messageType, 1) ? 'admitted' : 'over'
  }

  /** The V2 update of a compressed compact message, once inflated; `null` if it is refused. */
  private async inflate (message: CompactMessage, peerId: string, byteLength: number): Promise<ExpandedUpdate | null> {
    const details = { peerId, messageType: `compact ${message.syncType}`, byteLength, docName: this.host.docName }
    const inflated = await inflateRaw(message.payload, message.updateBytes)
    if (inflated.ok) return expanded(message, inflated.bytes)
    if (inflated.reason === 'over') {
      // Its own announcement is the limit it broke: the stream stopped there.
      this.host.disconnect(peerId, new TrysteroYjsError(`compact message inflates past the ${message.updateBytes} bytes it announced (stopped there); peer disconnected`, {
        ...details, figure: inflated.figure
      }))
    } else {
      this.host.report('error', new TrysteroYjsError(inflated.reason === 'short'
        ? `malformed message dropped: compact message inflates to ${inflated.figure} bytes, not the ${message.updateBytes} it announced`
        : 'malformed message dropped: compact message payload is not deflate-raw', { ...details, cause: inflated.cause }))
    }
    return null
  }
}

const expanded = (message: CompactMessage, update: Uint8Array): ExpandedUpdate => ({ type: message.syncType, update, format: 'v2' })
