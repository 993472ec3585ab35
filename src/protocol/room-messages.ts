/**
 * Room channel messages (PROTOCOL.md §2): which channels (documents) each peer has open.
 * Pure encode/decode over lib0; no I/O.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

/** Name of the Trystero action that carries room messages. */
export const roomChannelName = 'ty:room'

/** Version carried in HELLO; a peer with another version is ignored (PROTOCOL.md §2). */
export const protocolVersion = 1

const helloType = 0
const openType = 1
const closeType = 2

export type RoomMessage =
  | { type: 'hello', version: number, replyRequested: boolean, channels: string[] }
  | { type: 'open', channel: string }
  | { type: 'close', channel: string }

export const encodeRoomMessage = (message: RoomMessage): Uint8Array => {
  const encoder = encoding.createEncoder()
  switch (message.type) {
    case 'hello':
      encoding.writeVarUint(encoder, helloType)
      encoding.writeVarUint(encoder, message.version)
      encoding.writeVarUint(encoder, message.replyRequested ? 1 : 0)
      encoding.writeVarUint(encoder, message.channels.length)
      for (const channel of message.channels) encoding.writeVarString(encoder, channel)
      break
    case 'open':
      encoding.writeVarUint(encoder, openType)
      encoding.writeVarString(encoder, message.channel)
      break
    case 'close':
      encoding.writeVarUint(encoder, closeType)
      encoding.writeVarString(encoder, message.channel)
      break
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
  const type = decoding.readVarUint(decoder)
  switch (type) {
    case helloType: {
      const version = decoding.readVarUint(decoder)
      const replyRequested = decoding.readVarUint(decoder) === 1
      const count = decoding.readVarUint(decoder)
      // Each channel name takes at least one byte: a count beyond the bytes left is forged.
      if (count > decoder.arr.length - decoder.pos) throw new RangeError(`HELLO lists ${count} channels in ${bytes.length} bytes`)
      const channels: string[] = []
      for (let i = 0; i < count; i++) channels.push(decoding.readVarString(decoder))
      return { type: 'hello', version, replyRequested, channels }
    }
    case openType:
      return { type: 'open', channel: decoding.readVarString(decoder) }
    case closeType:
      return { type: 'close', channel: decoding.readVarString(decoder) }
    default:
      return null
  }
}

/** The leading type of a room message, for error reports: `hello`, …, `unknown(n)` or `unreadable`. */
export const roomMessageTypeName = (bytes: Uint8Array): string => {
  try {
    const type = decoding.readVarUint(decoding.createDecoder(bytes))
    return ['hello', 'open', 'close'][type] ?? `unknown(${type})`
  } catch {
    return 'unreadable'
  }
}
