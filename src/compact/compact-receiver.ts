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
  readonly maxMessageBytes: number
  /**
   * Counts bytes the peer makes us process against its byte rate, as if it had sent them
   * (`ChannelHandle.charge`); `false` once it went over and was disconnected.
   */
  charge: (peerId: string, bytes: number, messageType: string) => boolean
  /** The peer broke a limit: report and disconnect it. */
  disconnect: (peerId: string, error: TrysteroYjsError) => void
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

export class CompactReceiver {
  private readonly order: PeerOrder

  constructor (private readonly host: CompactReceiverHost) {
    this.order = new PeerOrder((peerId, error) => {
      // Thrown by the handler: an observer of the document or awareness (app code).
      host.report('error', new TrysteroYjsError('handling a message failed', { peerId, docName: host.docName, cause: error }))
    })
  }

  /** Hands each of a frame's messages to `handle`, in the peer's order. */
  deliver (peerId: string, messages: DocMessage[], byteLength: number, handle: (message: IncomingMessage) => void): void {
    for (const message of messages) {
      if (message.type !== 'compact') {
        // Nothing of this peer's waiting (the common case): handled now, as without compact sync.
        if (this.order.busy(peerId)) void this.order.enqueue(peerId, () => handle(message))
        else handle(message)
        continue
      }
      // Inflating starts now, beside whatever of this peer's is still waiting; handling keeps the order.
      const expanded = this.expand(message, peerId, byteLength)
      void this.order.enqueue(peerId, expanded instanceof Promise
        ? async () => { const update = await expanded; if (update !== null) handle(update) }
        : () => { if (expanded !== null) handle(expanded) })
    }
  }

  /** The V2 update of a compact message: at once when it is not compressed, else once inflated. */
  private expand (message: CompactMessage, peerId: string, byteLength: number): ExpandedUpdate | null | Promise<ExpandedUpdate | null> {
    const { docName, maxMessageBytes } = this.host
    const messageType = `compact ${message.syncType}`
    const details = { peerId, messageType, byteLength, docName }
    if (message.updateBytes > maxMessageBytes) {
      this.host.disconnect(peerId, new TrysteroYjsError('compact message announcing an update over the size limit; peer disconnected', {
        ...details, limit: 'maxMessageBytes', limitValue: maxMessageBytes, figure: message.updateBytes
      }))
      return null
    }
    if (!this.host.charge(peerId, message.updateBytes, messageType)) return null
    const expanded = (update: Uint8Array): ExpandedUpdate => ({ type: message.syncType, update, format: 'v2' })
    if (!message.compressed) return expanded(message.payload)
    return inflateRaw(message.payload, message.updateBytes).then((inflated) => {
      if (inflated.ok) return expanded(inflated.bytes)
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
    })
  }
}
