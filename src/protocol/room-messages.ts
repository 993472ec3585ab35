/**
 * Room channel messages (PROTOCOL.md §2): which channels (documents) each peer has open, the
 * admission exchange of private rooms (§5) and the liveness heartbeat (§2.3).
 * Pure encode/decode over lib0; no I/O.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { readBoundedBytes } from './read-bytes.js'

/** Name of the Trystero action that carries room messages. */
export const roomChannelName = 'ty:room'

/**
 * Version carried in HELLO; a peer with another version is ignored (PROTOCOL.md §2). Later
 * additions are announced as `features`, appended where version 1 peers ignore them.
 */
export const protocolVersion = 1

/** Bits of HELLO's `features` (PROTOCOL.md §2). */
export const features = {
  /** Answers PING with PONG (§2.3). */
  heartbeat: 1,
  /** Accepts COMPACT messages on document channels (§3.7). */
  compactSync: 2,
  /** HELLO ends with the sender's page instance: its tabs on the BroadcastChannel say the same (§7). */
  pageInstance: 4
} as const

const types = ['hello', 'open', 'close', 'challenge', 'proof', 'ping', 'pong'] as const

export type RoomMessage =
  /**
   * `stateVectors`: with compactSync, one per channel (empty for a channel that is not a document); else `null`.
   * `instance`: with pageInstance, the sender's page instance (§7); else `null`.
   */
  | { type: 'hello', version: number, replyRequested: boolean, channels: string[], features: number, stateVectors?: Uint8Array[] | null, instance?: string | null }
  | { type: 'open', channel: string, stateVector?: Uint8Array | null }
  | { type: 'close', channel: string }
  | { type: 'challenge', nonce: Uint8Array }
  | { type: 'proof', role: 'writer' | 'viewer', memberMac: Uint8Array, writerSignature: Uint8Array | null }
  | { type: 'ping', seq: number }
  | { type: 'pong', seq: number }

export const encodeRoomMessage = (message: RoomMessage): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, types.indexOf(message.type))
  switch (message.type) {
    case 'hello':
      encoding.writeVarUint(encoder, message.version)
      encoding.writeVarUint(encoder, message.replyRequested ? 1 : 0)
      encoding.writeVarUint(encoder, message.channels.length)
      for (const channel of message.channels) encoding.writeVarString(encoder, channel)
      encoding.writeVarUint(encoder, message.features)
      for (const stateVector of message.stateVectors ?? []) encoding.writeVarUint8Array(encoder, stateVector)
      // Last, so that peers reading the fields before it (compactSync's) never see it.
      if ((message.features & features.pageInstance) !== 0) encoding.writeVarString(encoder, message.instance ?? '')
      break
    case 'open':
      encoding.writeVarString(encoder, message.channel)
      if (message.stateVector != null) encoding.writeVarUint8Array(encoder, message.stateVector)
      break
    case 'close':
      encoding.writeVarString(encoder, message.channel)
      break
    case 'challenge':
      encoding.writeVarUint8Array(encoder, message.nonce)
      break
    case 'proof':
      encoding.writeVarUint(encoder, message.role === 'writer' ? 1 : 0)
      encoding.writeVarUint8Array(encoder, message.memberMac)
      if (message.role === 'writer') encoding.writeVarUint8Array(encoder, message.writerSignature ?? new Uint8Array(0))
      break
    case 'ping':
    case 'pong':
      encoding.writeVarUint(encoder, message.seq)
  }
  return encoding.toUint8Array(encoder)
}

/**
 * Decodes one room message. Trailing bytes are allowed, so that a later protocol version can
 * append fields. Throws (a lib0 decoding error or `RangeError`) on malformed input, and returns
 * `null` for an unknown message type.
 */
export const decodeRoomMessage = (bytes: Uint8Array): RoomMessage | null => {
  const decoder = decoding.createDecoder(bytes)
  const type = types[decoding.readVarUint(decoder)]
  switch (type) {
    case 'hello': {
      const version = decoding.readVarUint(decoder)
      const replyRequested = decoding.readVarUint(decoder) === 1
      const count = decoding.readVarUint(decoder)
      // Each channel name takes at least one byte: a count beyond the bytes left is forged.
      if (count > decoder.arr.length - decoder.pos) throw new RangeError(`HELLO lists ${count} channels in ${bytes.length} bytes`)
      const channels: string[] = []
      for (let i = 0; i < count; i++) channels.push(decoding.readVarString(decoder))
      // Absent from version 1 peers: no feature.
      const featureBits = decoding.hasContent(decoder) ? decoding.readVarUint(decoder) : 0
      // Part of compactSync: one per channel, absent without it.
      const stateVectors = (featureBits & features.compactSync) !== 0 && decoding.hasContent(decoder) ? channels.map(() => readBoundedBytes(decoder)) : null
      const instance = (featureBits & features.pageInstance) !== 0 && decoding.hasContent(decoder) ? decoding.readVarString(decoder) : null
      return { type: 'hello', version, replyRequested, channels, features: featureBits, stateVectors, instance: instance === '' ? null : instance }
    }
    case 'open': {
      const channel = decoding.readVarString(decoder)
      // OPEN names no features: trailing bytes that are no state vector are another version's field.
      let stateVector: Uint8Array | null = null
      try {
        if (decoding.hasContent(decoder)) stateVector = readBoundedBytes(decoder)
      } catch {
        stateVector = null
      }
      return { type, channel, stateVector }
    }
    case 'close':
      return { type, channel: decoding.readVarString(decoder) }
    case 'challenge':
      return { type, nonce: readBoundedBytes(decoder) }
    case 'proof': {
      const role = decoding.readVarUint(decoder) === 1 ? 'writer' : 'viewer'
      const memberMac = readBoundedBytes(decoder)
      return { type, role, memberMac, writerSignature: role === 'writer' ? readBoundedBytes(decoder) : null }
    }
    case 'ping':
    case 'pong':
      return { type, seq: decoding.readVarUint(decoder) }
    default:
      return null
  }
}

/** The leading type of a room message, for error reports: `hello`, …, `unknown(n)` or `unreadable`. */
export const roomMessageTypeName = (bytes: Uint8Array): string => {
  try {
    const type = decoding.readVarUint(decoding.createDecoder(bytes))
    return types[type] ?? `unknown(${type})`
  } catch {
    return 'unreadable'
  }
}
