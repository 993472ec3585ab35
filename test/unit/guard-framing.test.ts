/** Trystero 0.25 framing as the guard reads it: the same room, action and message as Trystero. */
import { describe, expect, it } from 'vitest'
import {
  encodeActionChunk,
  encodePresenceFrame,
  encodeRoomFrame,
  parseActionChunk,
  parseFrame,
  trysteroRoomToken
} from '../../src/guard/trystero-framing.js'
import { TokenBucket } from '../../src/guard/rate-meter.js'

describe('Trystero framing', () => {
  it('reads back a room frame around an action chunk', () => {
    const chunk = encodeActionChunk({ actionName: 'ty:room', nonce: 0x1234, last: false, binary: true, payload: Uint8Array.of(9, 8, 7) })
    const frame = parseFrame(encodeRoomFrame('token-1', chunk))
    expect(frame).toMatchObject({ kind: 'room', roomToken: 'token-1' })
    if (frame?.kind !== 'room') throw new Error('not a room frame')
    expect(parseActionChunk(frame.chunk)).toEqual({
      actionName: 'ty:room', nonce: 0x1234, last: false, meta: false, binary: true, json: false, payloadBytes: 3
    })
  })

  it('reads presence frames both ways', () => {
    expect(parseFrame(encodePresenceFrame('abc', true))).toEqual({ kind: 'presence', roomToken: 'abc', present: true })
    expect(parseFrame(encodePresenceFrame('abc', false))).toEqual({ kind: 'presence', roomToken: 'abc', present: false })
  })

  it('rejects what Trystero drops: short frames, empty tokens, unknown versions, cut tokens', () => {
    expect(parseFrame(Uint8Array.of(1, 0))).toBeNull()
    expect(parseFrame(Uint8Array.of(1, 0, 0, 5))).toBeNull()
    expect(parseFrame(Uint8Array.of(3, 0, 1, 65))).toBeNull()
    expect(parseFrame(Uint8Array.of(1, 0, 9, 65, 66))).toBeNull()
    expect(parseFrame(Uint8Array.of(2, 1, 0))).toBeNull()
  })

  it('reads a chunk shorter than its header as Trystero does (missing bytes are 0)', () => {
    expect(parseActionChunk(new TextEncoder().encode('ab'))).toMatchObject({ actionName: 'ab', nonce: 0, last: false, payloadBytes: 0 })
  })

  it('removes every NUL from the name, as Trystero does, and keeps invalid UTF-8 as replacement characters', () => {
    const bytes = new Uint8Array(36)
    bytes.set([0x61, 0, 0x62, 0xff])
    expect(parseActionChunk(bytes).actionName).toBe('ab\ufffd')
  })

  it("derives Trystero's room token (hex SHA-256 of Trystero:appId:roomId)", async () => {
    // Trystero's own function, read from its build (not exported by the package).
    const trysteroCrypto = '../../node_modules/@trystero-p2p/core/dist/crypto.mjs'
    const { deriveRoomNamespace } = await import(trysteroCrypto) as { deriveRoomNamespace: (appId: string, roomId: string) => Promise<string> }
    for (const [appId, roomId] of [['a', 'r'], ['trystero-yjs', 'room with spaces and ünïcode']]) {
      expect(await trysteroRoomToken(appId!, roomId!)).toBe(await deriveRoomNamespace(appId!, roomId!))
    }
  })
})

describe('TokenBucket', () => {
  it('allows the burst, then reports the debt, and refills at the rate', () => {
    const bucket = new TokenBucket(100, 200, 0)
    expect(bucket.take(150, 0)).toBe(0)
    expect(bucket.take(100, 0)).toBe(50)
    // 1 s later: +100, capped at the burst, minus what was owed.
    expect(bucket.take(0, 1000)).toBe(0)
    expect(bucket.take(60, 1000)).toBe(10)
  })
})
