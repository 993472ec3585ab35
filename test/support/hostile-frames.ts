/**
 * What a misbehaving peer may send on a document channel, each with a name for reports. Shared by
 * the memory-network and the real-WebRTC tests.
 */
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import { encodeFrame } from '../../src/protocol/doc-messages.js'

/** A document with insertions and deletions, so that its updates carry a delete set. */
export const updateWithDeletions = (): Uint8Array => {
  const doc = new Y.Doc()
  const text = doc.getText('t')
  text.insert(0, 'hello hostile world')
  text.delete(0, 6)
  text.delete(3, 4)
  return Y.encodeStateAsUpdate(doc)
}

export const syncUpdateEnvelope = (update: Uint8Array): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, 2)
  encoding.writeVarUint8Array(encoder, update)
  return encoding.toUint8Array(encoder)
}

export const hostileFrames = (): Array<[string, unknown]> => {
  const random = prng.create(42)
  const valid = encodeFrame([{ type: 'sync-update', update: updateWithDeletions() }])
  const update = updateWithDeletions()
  const frames: Array<[string, unknown]> = []
  for (let i = 0; i < 40; i++) frames.push([`random bytes #${i}`, prng.uint8Array(random, prng.uint32(random, 1, 300))])
  for (const cut of [1, 2, 3, 5, Math.floor(valid.length / 2), valid.length - 1]) frames.push([`frame truncated to ${cut} bytes`, valid.slice(0, cut)])
  // The envelope is intact, the update inside is cut: Yjs would integrate its structs and then
  // fail in the delete set.
  for (const cut of [update.length - 1, update.length - 3, Math.floor(update.length / 2)]) {
    frames.push([`update truncated to ${cut} bytes`, syncUpdateEnvelope(update.slice(0, cut))])
  }
  frames.push(['huge length prefix', Uint8Array.of(0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3)])
  frames.push(['length beyond 53 bits', Uint8Array.of(0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)])
  frames.push(['unknown outer type', Uint8Array.of(7, 1, 2, 3)])
  frames.push(['unknown sync type', Uint8Array.of(0, 9, 1, 0)])
  frames.push(['empty frame', new Uint8Array(0)])
  frames.push(['garbage state vector', Uint8Array.of(0, 0, 3, 0xff, 0xff, 0xff)])
  frames.push(['awareness with broken JSON', encodeFrame([{ type: 'awareness', update: Uint8Array.of(1, 5, 1, 3, 0x7b, 0x22, 0x61) }])])
  frames.push(['awareness claiming a million entries', encodeFrame([{ type: 'awareness', update: Uint8Array.of(0xc0, 0x84, 0x3d, 1) }])])
  frames.push(['a string instead of bytes', 'not binary'])
  frames.push(['a JSON object instead of bytes', { evil: true }])
  return frames
}
