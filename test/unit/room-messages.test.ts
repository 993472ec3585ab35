import { describe, expect, it } from 'vitest'
import { decodeRoomMessage, encodeRoomMessage, protocolVersion, roomMessageTypeName, type RoomMessage } from '../../src/protocol/room-messages.js'

describe('room messages', () => {
  const messages: RoomMessage[] = [
    { type: 'hello', version: protocolVersion, replyRequested: false, channels: [] },
    { type: 'hello', version: protocolVersion, replyRequested: true, channels: ['ty:d:', 'ty:d:notes', 'ty:h:abc'] },
    { type: 'open', channel: 'ty:d:x' },
    { type: 'close', channel: 'ty:d:x' }
  ]

  it('round-trips every message type', () => {
    for (const message of messages) expect(decodeRoomMessage(encodeRoomMessage(message))).toEqual(message)
  })

  it('pins the HELLO bytes (wire format)', () => {
    expect([...encodeRoomMessage({ type: 'hello', version: 1, replyRequested: true, channels: ['ty:d:'] })])
      .toEqual([0, 1, 1, 1, 5, 0x74, 0x79, 0x3a, 0x64, 0x3a])
  })

  it('accepts trailing bytes (fields a later version may add)', () => {
    const bytes = new Uint8Array([...encodeRoomMessage({ type: 'open', channel: 'k' }), 42, 43])
    expect(decodeRoomMessage(bytes)).toEqual({ type: 'open', channel: 'k' })
  })

  it('returns null for unknown types and throws on malformed bodies', () => {
    expect(decodeRoomMessage(Uint8Array.of(7))).toBeNull()
    expect(roomMessageTypeName(Uint8Array.of(7))).toBe('unknown(7)')
    expect(() => decodeRoomMessage(Uint8Array.of(0, 1, 0, 0xff, 0xff, 0x03))).toThrow(/channels/)
    expect(() => decodeRoomMessage(Uint8Array.of(1, 40, 0x61))).toThrow()
    expect(() => decodeRoomMessage(new Uint8Array(0))).toThrow()
  })
})
