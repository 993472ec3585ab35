import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import * as syncProtocol from 'y-protocols/sync'
import { Awareness, encodeAwarenessUpdate } from 'y-protocols/awareness'
import { decodeFrame, encodeFrame, messageAwareness, messageCompact, messageSync, type DocMessage } from '../../src/protocol/doc-messages.js'
import { decodeAwarenessEntries } from '../../src/protocol/awareness-entries.js'

const docWith = (text: string): Y.Doc => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return doc
}

describe('document frames', () => {
  it('encodes one sync message exactly as y-websocket does (messageSync + y-protocols sync)', () => {
    const doc = docWith('abc')
    const theirs = encoding.createEncoder()
    encoding.writeVarUint(theirs, messageSync)
    syncProtocol.writeSyncStep1(theirs, doc)
    expect(encodeFrame([{ type: 'sync-step1', stateVector: Y.encodeStateVector(doc) }])).toEqual(encoding.toUint8Array(theirs))

    const step2 = encoding.createEncoder()
    encoding.writeVarUint(step2, messageSync)
    syncProtocol.writeSyncStep2(step2, doc)
    expect(encodeFrame([{ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc) }])).toEqual(encoding.toUint8Array(step2))
  })

  it('is read by y-protocols readSyncMessage', () => {
    const source = docWith('from us')
    const frame = encodeFrame([{ type: 'sync-update', update: Y.encodeStateAsUpdate(source) }])
    const decoder = decoding.createDecoder(frame)
    expect(decoding.readVarUint(decoder)).toBe(messageSync)
    const target = new Y.Doc()
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), target, null)
    expect(target.getText('t').toString()).toBe('from us')
  })

  it('round-trips several messages in one frame', () => {
    const doc = docWith('xyz')
    const awareness = new Awareness(doc)
    awareness.setLocalStateField('user', 'Ada')
    const messages: DocMessage[] = [
      { type: 'sync-step1', stateVector: Y.encodeStateVector(doc) },
      { type: 'awareness', update: encodeAwarenessUpdate(awareness, [doc.clientID]) },
      { type: 'sync-step2', update: Y.encodeStateAsUpdate(doc) },
      { type: 'sync-update', update: Y.encodeStateAsUpdate(doc) }
    ]
    const { messages: decoded, failure } = decodeFrame(encodeFrame(messages))
    expect(failure).toBeNull()
    expect(decoded).toEqual(messages)
    awareness.destroy()
  })

  it('keeps the messages before a malformed one and says what failed', () => {
    const good = encodeFrame([{ type: 'sync-step1', stateVector: Y.encodeStateVector(docWith('a')) }])
    const frame = new Uint8Array([...good, messageAwareness, 0x90, 0x4e, 1, 2])
    const { messages, failure } = decodeFrame(frame)
    expect(messages).toHaveLength(1)
    expect(failure).toEqual({ messageType: 'awareness', cause: expect.stringMatching(/exceeds/) })
  })

  it('does not read past the frame when it is a view into a larger buffer', () => {
    const backing = new Uint8Array(64).fill(1)
    backing.set([0, 2, 10], 0)
    const { messages, failure } = decodeFrame(backing.subarray(0, 5))
    expect(messages).toEqual([])
    expect(failure?.messageType).toBe('sync-update')
  })
})

describe('COMPACT messages (PROTOCOL.md §3.7)', () => {
  const v2 = Y.encodeStateAsUpdateV2(docWith('compact'))

  it('round-trip beside the y-protocols messages, compressed or not', () => {
    const messages: DocMessage[] = [
      { type: 'compact', syncType: 'sync-step2', compressed: false, updateBytes: v2.byteLength, payload: v2 },
      { type: 'sync-step1', stateVector: Y.encodeStateVector(docWith('a')) },
      { type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 123456, payload: new Uint8Array([9, 9, 9]) }
    ]
    const frame = encodeFrame(messages)
    expect(frame[0]).toBe(messageCompact)
    expect(decodeFrame(frame)).toEqual({ messages, failure: null })
  })

  it('are refused with an unknown sync type or flag, or an uncompressed payload of another length', () => {
    const body = (syncType: number, flags: number, updateBytes: number, payload: Uint8Array): Uint8Array => {
      const encoder = encoding.createEncoder()
      for (const n of [messageCompact, syncType, flags, updateBytes]) encoding.writeVarUint(encoder, n)
      encoding.writeVarUint8Array(encoder, payload)
      return encoding.toUint8Array(encoder)
    }
    const cases: Array<[Uint8Array, RegExp]> = [
      [body(0, 0, 2, new Uint8Array(2)), /unknown compact sync type 0/],
      [body(1, 2, 2, new Uint8Array(2)), /unknown compact flags 2/],
      [body(2, 0, 3, new Uint8Array(2)), /uncompressed payload of 2 bytes announced as 3/],
      [body(1, 1, 10, new Uint8Array(4)).subarray(0, 7), /exceeds|end/]
    ]
    for (const [frame, cause] of cases) {
      const { messages, failure } = decodeFrame(frame)
      expect(messages).toEqual([])
      expect(failure?.messageType).toBe('compact')
      expect(failure?.cause).toMatch(cause)
    }
  })
})

describe('awareness entries', () => {
  it('reads client ids, clocks and states, null for removals', () => {
    const doc = new Y.Doc()
    const awareness = new Awareness(doc)
    awareness.setLocalStateField('user', 'Ada')
    expect(decodeAwarenessEntries(encodeAwarenessUpdate(awareness, [doc.clientID]))).toEqual([{ clientID: doc.clientID, clock: 1, state: { user: 'Ada' } }])
    awareness.setLocalState(null)
    expect(decodeAwarenessEntries(encodeAwarenessUpdate(awareness, [doc.clientID]))[0]!.state).toBeNull()
    awareness.destroy()
  })

  it('throws on broken JSON and on forged counts', () => {
    expect(() => decodeAwarenessEntries(Uint8Array.of(1, 5, 1, 2, 0x7b, 0x22))).toThrow()
    expect(() => decodeAwarenessEntries(Uint8Array.of(0xc0, 0x84, 0x3d, 1, 1, 1))).toThrow(/claims/)
  })
})
