/**
 * How the wire scenario reads what it measured: a sent message split into layers, a capture
 * split into datagrams and windows. The scenario itself needs root and tcpdump (scenarios.test.ts
 * checks that it says so); these readings run anywhere.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { anatomyOf, addAnatomy, emptyAnatomy } from '../../bench/harness/send-anatomy.js'
import { parsePcap, trafficIn } from '../../bench/harness/pcap.js'
import { encodeFrame } from '../../src/protocol/doc-messages.js'
import { encodeRoomMessage } from '../../src/protocol/room-messages.js'

const keystroke = (): Uint8Array => {
  const doc = new Y.Doc()
  let update: Uint8Array = new Uint8Array()
  doc.on('update', (u: Uint8Array) => { update = u })
  doc.getText('text').insert(0, 'a')
  return update
}

/** Trystero 0.25's framing of a one-chunk binary message (shared-peer.mjs, action-wire.mjs). */
const trysteroMessage = (action: string, payload: Uint8Array, tag = 0b101): Uint8Array => {
  const token = new TextEncoder().encode('f'.repeat(64))
  const header = new Uint8Array(36)
  header.set(new TextEncoder().encode(action))
  header[34] = tag
  header[35] = 255
  const frame = new Uint8Array(3 + token.length + header.length + payload.length)
  frame.set([1, 0, token.length])
  frame.set(token, 3)
  frame.set(header, 3 + token.length)
  frame.set(payload, 3 + token.length + header.length)
  return frame
}

describe('wire scenario: a sent message by layer', () => {
  const update = keystroke()

  it('y-webrtc: a sync update is the update and its 3-byte envelope', () => {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, 0)
    encoding.writeVarUint(encoder, 2)
    encoding.writeVarUint8Array(encoder, update)
    const message = encoding.toUint8Array(encoder)
    expect(anatomyOf('y-webrtc', message)).toEqual({ ...emptyAnatomy(), messages: 1, bytes: message.length, envelope: 3, yjsUpdate: update.length })
  })

  it('ours: room frame, action header, envelope and update add up to what was sent', () => {
    const message = trysteroMessage('ty:d:abc', encodeFrame([{ type: 'sync-update', update }]))
    const anatomy = anatomyOf('trystero-yjs', message)
    expect(anatomy).toEqual({ ...emptyAnatomy(), messages: 1, bytes: message.length, roomFrame: 67, actionHeader: 36, envelope: 3, yjsUpdate: update.length })
  })

  it('ours: anything but Yjs updates is kept whole, by action and room message type', () => {
    const ping = trysteroMessage('ty:room', encodeRoomMessage({ type: 'ping', seq: 3 }))
    const step1 = trysteroMessage('ty:d:abc', encodeFrame([{ type: 'sync-step1', stateVector: new Uint8Array([0]) }]))
    // A chunk of a longer message (not the last one) is not read as updates, even if it parses.
    const chunk = trysteroMessage('ty:d:abc', encodeFrame([{ type: 'sync-update', update }]), 0b100)
    const sum = [ping, step1, chunk].map((m) => anatomyOf('trystero-yjs', m)).reduce(addAnatomy, emptyAnatomy())
    expect(sum).toEqual({
      ...emptyAnatomy(),
      messages: 3,
      bytes: ping.length + step1.length + chunk.length,
      other: ping.length + step1.length + chunk.length,
      otherKinds: { 'ty:room ping': { messages: 1, bytes: ping.length }, 'ty:d:abc': { messages: 2, bytes: step1.length + chunk.length } }
    })
  })

  it('y-webrtc: awareness and a sync step are kept whole', () => {
    const message = new Uint8Array([1, 1, 0])
    expect(anatomyOf('y-webrtc', message)).toMatchObject({ other: 3, otherKinds: { 'y-protocols': { messages: 1, bytes: 3 } } })
  })
})

/** A classic pcap (microseconds, Ethernet) of IPv4 UDP datagrams with these payloads at these times (ms). */
const pcapOf = (datagrams: Array<{ at: number, payload: Uint8Array }>): Buffer => {
  const header = Buffer.alloc(24)
  header.writeUInt32LE(0xa1b2c3d4, 0)
  header.writeUInt16LE(2, 4)
  header.writeUInt16LE(4, 6)
  header.writeUInt32LE(65535, 16)
  header.writeUInt32LE(1, 20)
  const records = datagrams.map(({ at, payload }) => {
    const frame = Buffer.alloc(14 + 20 + 8 + payload.length)
    frame.writeUInt16BE(0x0800, 12)
    frame[14] = 0x45
    frame.writeUInt16BE(20 + 8 + payload.length, 16)
    frame[14 + 9] = 17
    frame.writeUInt16BE(8 + payload.length, 14 + 20 + 4)
    Buffer.from(payload).copy(frame, 42)
    // Snapped at 96 bytes, as the scenario captures: the original length still counts.
    const included = frame.subarray(0, Math.min(96, frame.length))
    const record = Buffer.alloc(16)
    record.writeUInt32LE(Math.floor(at / 1000), 0)
    record.writeUInt32LE(Math.round((at % 1000) * 1000), 4)
    record.writeUInt32LE(included.length, 8)
    record.writeUInt32LE(frame.length, 12)
    return Buffer.concat([record, included])
  })
  return Buffer.concat([header, ...records])
}

describe('wire scenario: a capture by window', () => {
  const dtls = (size: number): Uint8Array => new Uint8Array(size).fill(23)
  const stun = new Uint8Array(20).fill(0)
  const capture = parsePcap(pcapOf([
    { at: 1_000_000, payload: dtls(189) },
    { at: 1_000_010.5, payload: dtls(65) },
    { at: 1_000_020, payload: stun },
    { at: 1_000_030, payload: dtls(1200) },
    { at: 1_000_500, payload: dtls(189) }
  ]))

  it('reads times, IP lengths and UDP payloads, beyond the snap length', () => {
    expect(capture.map((d) => [d.time, d.ipBytes, d.udpPayload, d.firstByte])).toEqual([
      [1_000_000, 217, 189, 23], [1_000_010.5, 93, 65, 23], [1_000_020, 48, 20, 0], [1_000_030, 1228, 1200, 23], [1_000_500, 217, 189, 23]
    ])
  })

  it('sums DTLS datagrams in a window, SACK-sized ones apart, STUN aside', () => {
    expect(trafficIn(capture, 1_000_000, 1_000_030)).toEqual({
      datagrams: 3,
      sackOnly: 1,
      ipBytes: 217 + 93 + 1228,
      udpPayload: 189 + 65 + 1200,
      stun: { datagrams: 1, ipBytes: 48 },
      other: { datagrams: 0, ipBytes: 0 },
      sizes: { 65: 1, 189: 1, 1200: 1 }
    })
  })

  it('refuses what is not a classic Ethernet pcap', () => {
    expect(() => parsePcap(Buffer.alloc(24))).toThrow(/not a little-endian classic pcap/)
  })
})
