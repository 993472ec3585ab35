/**
 * A document's frames on their way out (PROTOCOL.md §3.3, §3.7): step 2s and updates go as
 * compact messages (Yjs V2, deflate-raw) to peers that accept them when they are big enough for
 * compression to pay, and as y-protocols V1 messages to everyone else and for everything small.
 *
 * Compression is asynchronous, so each peer's frames go through a `PeerOrder`: a frame for a peer
 * waits while an earlier one for that peer is being compressed — or, when it spans several of
 * Trystero's chunks, being handed over (Trystero interleaves the chunks of concurrent sends to one
 * peer, so a keystroke sent meanwhile would arrive first). A peer with nothing in flight is sent
 * to at once, in the caller's turn: a keystroke costs no more than it did without compact sync.
 */
import * as Y from 'yjs'
import { encodeFrame, type DocMessage } from '../protocol/doc-messages.js'
import type { UpdateFormat } from '../sync/update-check.js'
import { deflateRaw } from './deflate-raw.js'
import { PeerOrder } from './peer-order.js'

/**
 * Updates (in V2) from this size on are sent compact. A compression round trip costs about 0.5 ms
 * in Node and 1.6 ms in Chromium even for 30 bytes; 2 KiB less on a 10 Mbit/s link saves 1.6 ms.
 * A keystroke is 20–30 bytes.
 */
export const compactThresholdBytes = 2048

/** Trystero's chunk payload (16 KiB less its 36-byte action header): bigger frames are interleavable. */
const trysteroChunkBytes = 16 * 1024 - 36

export interface CompactSenderHost {
  /** Hands a frame to the channel for these peers (counted as traffic); resolves once handed over. */
  transmit: (frame: Uint8Array, targets: string[]) => Promise<void>
  /** Whether both this peer and we set `compactSync` (PROTOCOL.md §2). */
  compactPeer: (peerId: string) => boolean
  /** A send step failed unexpectedly (an encoding threw). */
  failed: (peerId: string, error: unknown) => void
}

export class CompactSender {
  private readonly order: PeerOrder

  constructor (private readonly host: CompactSenderHost) {
    this.order = new PeerOrder(host.failed)
  }

  /** V1 messages (step 1, awareness) to every target, each after what it has in flight. */
  send (messages: DocMessage[], targets: string[]): Promise<void> {
    return this.dispatch(encodeFrame(messages), targets)
  }

  /** A local update (V1, from the document's `update` event) to every target. */
  sendUpdate (update: Uint8Array, targets: string[]): Promise<void> {
    // A keystroke (the common case): one V1 frame for everyone, as before compact sync.
    if (update.byteLength < compactThresholdBytes) return this.dispatch(encodeFrame([{ type: 'sync-update', update }]), targets)
    const compact = targets.filter((peerId) => this.host.compactPeer(peerId))
    const plain = targets.filter((peerId) => !compact.includes(peerId))
    const sent: Array<Promise<void>> = []
    if (plain.length > 0) sent.push(this.dispatch(encodeFrame([{ type: 'sync-update', update }]), plain))
    if (compact.length > 0) sent.push(this.sendMessages(compactMessage('sync-update', Y.convertUpdateFormatV1ToV2(update)), compact))
    return Promise.all(sent).then(() => {})
  }

  /** The format a step 2 for this peer is encoded in: V2 if it takes compact messages. */
  formatFor (peerId: string): UpdateFormat {
    return this.host.compactPeer(peerId) ? 'v2' : 'v1'
  }

  /** A step 2 to one peer: `encode` gives the update in the format asked for. */
  sendStep2 (peerId: string, encode: (format: UpdateFormat) => Uint8Array): Promise<void> {
    const format = this.formatFor(peerId)
    return this.sendMessages(syncMessage('sync-step2', encode(format), format), [peerId])
  }

  /** One frame of messages, some still being compressed, to every target in its order. */
  sendMessages (messages: DocMessage | Promise<DocMessage> | Promise<DocMessage[]>, targets: string[]): Promise<void> {
    if (!(messages instanceof Promise)) return this.dispatch(encodeFrame([messages]), targets)
    return this.dispatch(messages.then((ready) => encodeFrame(Array.isArray(ready) ? ready : [ready])), targets)
  }

  /**
   * Sends `frame` to every target after what that target has in flight: targets with nothing in
   * flight get a ready frame at once, together; the others, and every target of a frame still
   * being compressed, in their own turn.
   */
  private dispatch (frame: Uint8Array | Promise<Uint8Array>, targets: string[]): Promise<void> {
    const now = frame instanceof Uint8Array ? targets.filter((peerId) => !this.order.busy(peerId)) : []
    let handedOver: Promise<void> | null = null
    if (now.length > 0) {
      handedOver = this.host.transmit(frame as Uint8Array, now)
      if ((frame as Uint8Array).byteLength > trysteroChunkBytes) for (const peerId of now) void this.order.hold(peerId, handedOver)
      // Nobody had anything in flight: nothing more to arrange (a keystroke ends here).
      if (now.length === targets.length) return handedOver
    }
    const sent: Array<Promise<void>> = handedOver === null ? [] : [handedOver]
    for (const peerId of targets) {
      if (now.includes(peerId)) continue
      sent.push(this.order.enqueue(peerId, async () => await this.host.transmit(await frame, [peerId])))
    }
    return Promise.all(sent).then(() => {})
  }
}

/**
 * The message that carries `update` (in `format`) as `syncType` to a peer taking that format: V1
 * SYNC as it is; V2 as COMPACT from `compactThresholdBytes` on (compressed when that makes it
 * smaller), converted to V1 SYNC below (cheap at that size, rather than encoding twice).
 */
export const syncMessage = (syncType: 'sync-step2' | 'sync-update', update: Uint8Array, format: UpdateFormat): DocMessage | Promise<DocMessage> => {
  if (format === 'v1') return { type: syncType, update }
  if (update.byteLength < compactThresholdBytes) return { type: syncType, update: Y.convertUpdateFormatV2ToV1(update) }
  return compactMessage(syncType, update)
}

/** A COMPACT message for a V2 update: compressed, unless compression does not make it smaller. */
const compactMessage = async (syncType: 'sync-step2' | 'sync-update', v2: Uint8Array): Promise<DocMessage> => {
  let deflated: Uint8Array | null = null
  try {
    deflated = await deflateRaw(v2)
  } catch {
    // The platform refused to compress (it should not): the update goes uncompressed.
  }
  const compressed = deflated !== null && deflated.byteLength < v2.byteLength
  return { type: 'compact', syncType, compressed, updateBytes: v2.byteLength, payload: compressed ? deflated! : v2 }
}
