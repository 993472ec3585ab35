/**
 * The attacks of issue 10 that speak the provider's own protocol (PROTOCOL.md §2–3) rather than
 * break Trystero's framing: a HELLO that announces the document, step 1 requests, and updates
 * whose history never comes. Encoded with this repository's protocol module; the wire is the
 * same for the provider before issue 10 (HELLO's `features` is appended where it read nothing).
 */
import * as Y from 'yjs'
import { docChannelKey } from '../../src/channel-key.js'
import { encodeFrame } from '../../src/protocol/doc-messages.js'
import { encodeRoomMessage, protocolVersion } from '../../src/protocol/room-messages.js'

/** The Trystero action of the room's main document. */
export const docAction = docChannelKey('')

/** HELLO with the main document open, as a provider says it on meeting a peer. */
export const announceDocument = (): Uint8Array =>
  encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docAction], features: 0 })

/** A step 1 from an empty document: the answer is the whole document. */
export const emptyStep1 = (): Uint8Array => encodeFrame([{ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) }])

/**
 * A real Yjs update, the second edit of client 1,000,000 + `i`, whose first edit is never sent: it
 * waits for history that never comes (Yjs's pending set).
 */
export const missingHistoryUpdate = (i: number): Uint8Array => {
  const doc = new Y.Doc()
  doc.clientID = 1_000_000 + i
  const text = doc.getText('text')
  text.insert(0, 'x')
  const before = Y.encodeStateVector(doc)
  text.insert(1, ` flood ${i}`)
  return Y.encodeStateAsUpdate(doc, before)
}

/** `count` of those, each framed as a sync update. */
export function * missingHistoryUpdates (count: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield encodeFrame([{ type: 'sync-update', update: missingHistoryUpdate(i) }])
}

/** An update anyone can apply, carrying `marker`: seen by the victim once all before it was handled. */
export const markerUpdate = (marker: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, marker)
  return encodeFrame([{ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) }])
}
