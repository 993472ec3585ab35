/**
 * Generated hostile messages for the fuzz tests, from a seed: every kind a misbehaving peer can
 * send on a document channel — random bytes, valid framing around corrupt Yjs content, wrong
 * message types, huge varints, truncated updates, updates whose history is missing, awareness
 * with absurd clocks or huge JSON, and frames mixing them. None of them may change a document
 * that already has the history they claim to extend; "missing history" ones must stay pending.
 */
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as prng from 'lib0/prng'
import { encodeAwarenessEntries } from '../../src/protocol/awareness-entries.js'
import { encodeFrame, type DocMessage } from '../../src/protocol/doc-messages.js'

export type HostileKind =
  | 'random-bytes' | 'corrupt-update' | 'truncated-update' | 'wrong-type' | 'huge-varint'
  | 'missing-history' | 'absurd-awareness' | 'huge-json-awareness' | 'garbage-state-vector' | 'mixed-frame'

export const hostileKinds: HostileKind[] = [
  'random-bytes', 'corrupt-update', 'truncated-update', 'wrong-type', 'huge-varint',
  'missing-history', 'absurd-awareness', 'huge-json-awareness', 'garbage-state-vector', 'mixed-frame'
]

/** Updates of a document the victim has never seen, with deletions and several types. */
const sourceUpdates = (random: prng.PRNG): Uint8Array[] => {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  for (let i = 0; i < 40; i++) {
    const text = doc.getText('t')
    if (text.length > 5 && prng.bool(random)) text.delete(prng.uint32(random, 0, text.length - 2), 1)
    else text.insert(prng.uint32(random, 0, text.length), prng.word(random, 1, 6))
    if (i % 5 === 0) doc.getMap('m').set(prng.word(random, 1, 3), prng.uint32(random, 0, 1000))
    if (i % 7 === 0) doc.getArray('a').push([prng.word(random, 1, 4)])
  }
  return updates
}

const bytes = (random: prng.PRNG, min: number, max: number): Uint8Array => prng.uint8Array(random, prng.uint32(random, min, max))

const syncMessage = (inner: number, body: Uint8Array): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, 0)
  encoding.writeVarUint(encoder, inner)
  encoding.writeVarUint8Array(encoder, body)
  return encoding.toUint8Array(encoder)
}

/** Flips, cuts or overwrites some bytes of a valid update. */
const corrupt = (random: prng.PRNG, update: Uint8Array): Uint8Array => {
  const copy = update.slice()
  const edits = prng.uint32(random, 1, 4)
  for (let i = 0; i < edits; i++) copy[prng.uint32(random, 0, copy.length - 1)] = prng.uint32(random, 0, 255)
  return copy
}

export interface HostileMessage {
  kind: HostileKind
  frame: Uint8Array
}

/**
 * `count` messages cycling through every kind. `victimClient` is a client id the victim owns
 * (an awareness entry for it must be dropped).
 */
export const generateHostileMessages = (seed: number, count: number, victimClient: number): HostileMessage[] => {
  const random = prng.create(seed)
  const updates = sourceUpdates(random)
  const pick = (): Uint8Array => updates[prng.uint32(random, 1, updates.length - 1)]!
  const messages: HostileMessage[] = []
  for (let i = 0; i < count; i++) {
    const kind = hostileKinds[i % hostileKinds.length]!
    messages.push({ kind, frame: make(kind) })
  }
  return messages

  function make (kind: HostileKind): Uint8Array {
    switch (kind) {
      case 'random-bytes':
        return bytes(random, 0, 400)
      case 'corrupt-update':
        // Never the first update: a valid mutation of it would be a legitimate new document.
        return syncMessage(prng.uint32(random, 1, 2), corrupt(random, Y.mergeUpdates(updates.slice(1, prng.uint32(random, 2, updates.length)))))
      case 'truncated-update': {
        const update = Y.mergeUpdates(updates)
        return syncMessage(2, update.slice(0, prng.uint32(random, 1, update.length - 1)))
      }
      case 'wrong-type':
        return Uint8Array.of(prng.uint32(random, 2, 200), ...bytes(random, 0, 20))
      case 'huge-varint':
        return Uint8Array.of(0, prng.uint32(random, 0, 2), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, ...bytes(random, 0, 8))
      case 'missing-history':
        // A real update of the unseen document, without the ones before it: it cannot integrate.
        return syncMessage(2, pick())
      case 'absurd-awareness':
        return encodeFrame([{ type: 'awareness', update: encodeAwarenessEntries([{ clientID: prng.bool(random) ? victimClient : prng.uint32(random, 0, 2 ** 31), clock: 2 ** 52, state: { user: { name: prng.word(random) } } }]) }])
      case 'huge-json-awareness': {
        const huge = { junk: 'x'.repeat(prng.uint32(random, 10_000, 200_000)), nested: Array.from({ length: 100 }, (_, j) => ({ j })) }
        return encodeFrame([{ type: 'awareness', update: encodeAwarenessEntries([{ clientID: victimClient, clock: prng.uint32(random, 0, 2 ** 31), state: huge }]) }])
      }
      case 'garbage-state-vector':
        return syncMessage(0, bytes(random, 1, 40))
      case 'mixed-frame': {
        const messages: DocMessage[] = [
          { type: 'awareness', update: bytes(random, 1, 30) },
          { type: 'sync-update', update: corrupt(random, pick()) }
        ]
        const frame = encodeFrame(messages)
        return frame.slice(0, prng.uint32(random, Math.floor(frame.length / 2), frame.length))
      }
    }
  }
}
