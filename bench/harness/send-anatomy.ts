/**
 * What one RTCDataChannel.send carries, layer by layer: the wire scenario's breakdown of a
 * keystroke's bytes above SCTP. Read from the bytes actually handed to the channel, not from
 * constants, so a change in Trystero's framing or ours shows up in the table.
 *
 * Ours: Trystero room frame (version, token length, room token; shared-peer.mjs) + action header
 * (32-byte name, nonce, tag, progress; action-wire.mjs) + our document frame (PROTOCOL.md §3.2).
 * y-webrtc: the y-protocols message alone. Both frames are y-protocols sync messages, so the
 * "envelope" is the same thing on both sides: message type, sync type, update length.
 */
import * as decoding from 'lib0/decoding'
import { roomChannelName, roomMessageTypeName } from '../../src/protocol/room-messages.js'
import type { ProviderKind } from './protocol.js'

/** Bytes of sent messages, by layer; every byte counted in exactly one field besides `bytes`. */
export interface SendAnatomy {
  messages: number
  /** All bytes handed to RTCDataChannel.send. */
  bytes: number
  /** Trystero's room frame of the Yjs update messages: 3 bytes + the room token (ours only). */
  roomFrame: number
  /** Trystero's action header of the Yjs update messages, 36 bytes each (ours only). */
  actionHeader: number
  /** y-protocols sync-update framing around each Yjs update: message type, sync type, length. */
  envelope: number
  /** The Yjs updates themselves (V1), as the writer's document produced them. */
  yjsUpdate: number
  /** Messages that are not Yjs updates (handshakes, awareness, sync steps, chunked transfers), whole. */
  other: number
  /**
   * What `other` is made of: messages and bytes (whole messages) by Trystero action name (with the
   * message type on our room channel, e.g. `ty:room ping`), or `y-protocols` for y-webrtc.
   */
  otherKinds: Record<string, { messages: number, bytes: number }>
}

export const emptyAnatomy = (): SendAnatomy => ({ messages: 0, bytes: 0, roomFrame: 0, actionHeader: 0, envelope: 0, yjsUpdate: 0, other: 0, otherKinds: {} })

const addKinds = (a: SendAnatomy['otherKinds'], b: SendAnatomy['otherKinds']): SendAnatomy['otherKinds'] => {
  const sum = { ...a }
  for (const [kind, { messages, bytes }] of Object.entries(b)) {
    const before = sum[kind] ?? { messages: 0, bytes: 0 }
    sum[kind] = { messages: before.messages + messages, bytes: before.bytes + bytes }
  }
  return sum
}

export const addAnatomy = (a: SendAnatomy, b: SendAnatomy): SendAnatomy => ({
  messages: a.messages + b.messages,
  bytes: a.bytes + b.bytes,
  roomFrame: a.roomFrame + b.roomFrame,
  actionHeader: a.actionHeader + b.actionHeader,
  envelope: a.envelope + b.envelope,
  yjsUpdate: a.yjsUpdate + b.yjsUpdate,
  other: a.other + b.other,
  otherKinds: addKinds(a.otherKinds, b.otherKinds)
})

// Trystero 0.25 wire constants (shared-peer.mjs, action-wire.mjs).
const roomFrameVersion = 1
const actionHeaderBytes = 36
const actionTagIndex = 34
const tagLast = 1
const tagMeta = 2
const tagBinary = 4

// y-protocols message numbers (y-websocket's outer ones; sync.js's inner ones).
const messageSync = 0
const syncUpdate = 2

/**
 * The Yjs update bytes in a payload made only of y-protocols sync-update messages, or null when
 * the payload holds anything else (or is malformed): then it is counted as `other`.
 */
const updateBytesIn = (payload: Uint8Array): number | null => {
  if (payload.byteLength === 0) return null
  const decoder = decoding.createDecoder(payload)
  let updates = 0
  try {
    while (decoding.hasContent(decoder)) {
      if (decoding.readVarUint(decoder) !== messageSync || decoding.readVarUint(decoder) !== syncUpdate) return null
      const length = decoding.readVarUint(decoder)
      if (decoder.pos + length > payload.byteLength) return null
      decoder.pos += length
      updates += length
    }
  } catch {
    return null
  }
  return updates
}

/** The action name in a header: up to 32 bytes, zero-padded. */
const actionName = (header: Uint8Array): string => {
  const end = header.subarray(0, 32).indexOf(0)
  return new TextDecoder().decode(header.subarray(0, end === -1 ? 32 : end))
}

/** A message kept whole as `other` (its framing included), under `kind`. */
const wholeAs = (kind: string, data: Uint8Array): SendAnatomy =>
  ({ ...emptyAnatomy(), messages: 1, bytes: data.byteLength, other: data.byteLength, otherKinds: { [kind]: { messages: 1, bytes: data.byteLength } } })

/** One sent message, split into its layers. */
export const anatomyOf = (provider: ProviderKind, data: Uint8Array): SendAnatomy => {
  if (provider === 'y-webrtc') {
    const updates = updateBytesIn(data)
    if (updates === null) return wholeAs('y-protocols', data)
    return { ...emptyAnatomy(), messages: 1, bytes: data.byteLength, envelope: data.byteLength - updates, yjsUpdate: updates }
  }
  if (data.byteLength < 3 || data[0] !== roomFrameVersion) return wholeAs('Trystero frame other than a room message', data)
  const roomFrame = 3 + ((data[1]! << 8) | data[2]!)
  if (data.byteLength < roomFrame + actionHeaderBytes) return wholeAs('Trystero frame other than a room message', data)
  const header = data.subarray(roomFrame, roomFrame + actionHeaderBytes)
  const name = actionName(header)
  const tag = header[actionTagIndex]!
  const payload = data.subarray(roomFrame + actionHeaderBytes)
  // A single-chunk binary message without metadata holding only Yjs updates: what a keystroke is.
  const updates = (tag & (tagLast | tagMeta | tagBinary)) === (tagLast | tagBinary) ? updateBytesIn(payload) : null
  // Our room channel's messages are named by type: PING and PONG go on while someone types.
  if (updates === null) return wholeAs(name === roomChannelName && (tag & tagLast) !== 0 ? `${name} ${roomMessageTypeName(payload)}` : name, data)
  return { ...emptyAnatomy(), messages: 1, bytes: data.byteLength, roomFrame, actionHeader: actionHeaderBytes, envelope: payload.byteLength - updates, yjsUpdate: updates }
}
