import { describe, expect, it } from 'vitest'
import { decodeRoomMessage, encodeRoomMessage, protocolVersion, roomMessageTypeName, type RoomMessage } from '../../src/protocol/room-messages.js'

describe('room messages', () => {
  const messages: RoomMessage[] = [
    { type: 'hello', version: protocolVersion, replyRequested: false, channels: [], features: 0, stateVectors: null, instance: null },
    { type: 'hello', version: protocolVersion, replyRequested: true, channels: ['ty:d:', 'ty:d:notes', 'ty:h:abc'], features: 0, stateVectors: null, instance: null },
    { type: 'hello', version: protocolVersion, replyRequested: false, channels: ['ty:d:'], features: 1, stateVectors: null, instance: null },
    { type: 'hello', version: protocolVersion, replyRequested: false, channels: ['ty:d:', 'ty:lr:x'], features: 3, stateVectors: [Uint8Array.of(1, 5, 3), new Uint8Array(0)], instance: null },
    { type: 'hello', version: protocolVersion, replyRequested: false, channels: ['ty:d:'], features: 5, stateVectors: null, instance: 'page-1' },
    { type: 'hello', version: protocolVersion, replyRequested: false, channels: ['ty:d:', 'ty:lr:x'], features: 7, stateVectors: [Uint8Array.of(1, 5, 3), new Uint8Array(0)], instance: 'page-2' },
    { type: 'open', channel: 'ty:d:x', stateVector: null },
    { type: 'open', channel: 'ty:d:x', stateVector: Uint8Array.of(1, 5, 3) },
    { type: 'close', channel: 'ty:d:x' },
    { type: 'challenge', nonce: new Uint8Array(32).fill(7) },
    { type: 'proof', role: 'viewer', memberMac: new Uint8Array(32).fill(1), writerSignature: null },
    { type: 'proof', role: 'writer', memberMac: new Uint8Array(32).fill(1), writerSignature: new Uint8Array(64).fill(2) },
    { type: 'ping', seq: 0 },
    { type: 'pong', seq: 300 }
  ]

  it('round-trips every message type', () => {
    for (const message of messages) expect(decodeRoomMessage(encodeRoomMessage(message))).toEqual(message)
  })

  it('pins the HELLO bytes (wire format)', () => {
    expect([...encodeRoomMessage({ type: 'hello', version: 1, replyRequested: true, channels: ['ty:d:'], features: 1 })])
      .toEqual([0, 1, 1, 1, 5, 0x74, 0x79, 0x3a, 0x64, 0x3a, 1])
  })

  it('reads a version 1 HELLO, which has no features field, as having no feature', () => {
    expect(decodeRoomMessage(Uint8Array.of(0, 1, 0, 1, 5, 0x74, 0x79, 0x3a, 0x64, 0x3a)))
      .toEqual({ type: 'hello', version: 1, replyRequested: false, channels: ['ty:d:'], features: 0, stateVectors: null, instance: null })
  })

  it('puts the page instance last, where a peer without the pageInstance feature stops reading (PROTOCOL.md §7)', () => {
    const withInstance = encodeRoomMessage({ type: 'hello', version: 1, replyRequested: false, channels: ['ty:d:'], features: 7, stateVectors: [Uint8Array.of(0)], instance: 'abc' })
    const without = encodeRoomMessage({ type: 'hello', version: 1, replyRequested: false, channels: ['ty:d:'], features: 3, stateVectors: [Uint8Array.of(0)] })
    // Same bytes up to the instance, then varString('abc'), so a compactSync peer of version 2 reads its state vectors unchanged.
    expect([...withInstance.subarray(without.byteLength)]).toEqual([3, 0x61, 0x62, 0x63])
    expect([...withInstance.subarray(0, without.byteLength)]).toEqual([...without].map((byte, i) => i === 10 ? 7 : byte))
    expect(decodeRoomMessage(withInstance)).toMatchObject({ channels: ['ty:d:'], stateVectors: [Uint8Array.of(0)], instance: 'abc' })
  })

  it('reads a HELLO with the pageInstance bit but no instance (cut short) as naming none', () => {
    const bytes = encodeRoomMessage({ type: 'hello', version: 1, replyRequested: false, channels: ['ty:d:'], features: 5, instance: 'abc' })
    expect(decodeRoomMessage(bytes.subarray(0, bytes.byteLength - 4))).toMatchObject({ features: 5, instance: null })
  })

  it('rejects a challenge or proof whose length prefix runs past the message', () => {
    expect(() => decodeRoomMessage(Uint8Array.of(3, 32, 1, 2, 3))).toThrow(/length prefix/)
    expect(() => decodeRoomMessage(Uint8Array.of(4, 1, 9, 1))).toThrow(/length prefix/)
  })

  it('accepts trailing bytes (fields a later version may add)', () => {
    const bytes = new Uint8Array([...encodeRoomMessage({ type: 'open', channel: 'k' }), 42, 43])
    expect(decodeRoomMessage(bytes)).toEqual({ type: 'open', channel: 'k', stateVector: null })
    const hello = new Uint8Array([...encodeRoomMessage({ type: 'hello', version: 1, replyRequested: false, channels: ['k'], features: 1 }), 42, 43])
    expect(decodeRoomMessage(hello)).toMatchObject({ channels: ['k'], features: 1, stateVectors: null })
  })

  it('returns null for unknown types and throws on malformed bodies', () => {
    expect(decodeRoomMessage(Uint8Array.of(7))).toBeNull()
    expect(roomMessageTypeName(Uint8Array.of(7))).toBe('unknown(7)')
    expect(() => decodeRoomMessage(Uint8Array.of(0, 1, 0, 0xff, 0xff, 0x03))).toThrow(/channels/)
    expect(() => decodeRoomMessage(Uint8Array.of(1, 40, 0x61))).toThrow()
    expect(() => decodeRoomMessage(new Uint8Array(0))).toThrow()
  })
})
