/**
 * Trystero 0.25's wire framing on a data channel, read the way Trystero reads it
 * (`@trystero-p2p/core` shared-peer.mjs `unwrapFrame`, action-wire.mjs `handleData`), so that the
 * guard agrees with Trystero on which room, action and message a frame belongs to:
 *
 * - room frame (version 1): `[1, tokenLength u16 BE, token (UTF-8), action chunk]`
 * - presence frame (version 2): `[2, isPresent, tokenLength u16 BE, token]`
 * - action chunk: 32-byte NUL-padded action name, nonce u16 BE, tag byte (bit 0 last chunk,
 *   bit 1 metadata, bit 2 binary, bit 3 JSON), progress byte, payload.
 *
 * Pure functions; the encoders exist for tests and for tools that speak to Trystero directly.
 */

export const roomFrameVersion = 1
export const presenceFrameVersion = 2
/** Bytes of the action name field. */
export const actionNameBytes = 32
/** Bytes before an action chunk's payload. */
export const actionHeaderBytes = 36
/** Payload bytes per chunk when Trystero sends (16 KiB data-channel messages). */
export const chunkPayloadBytes = 16 * 1024 - actionHeaderBytes

const tagLast = 1
const tagMeta = 2
const tagBinary = 4
const tagJson = 8

// Not `fatal`: Trystero decodes with a default TextDecoder, so invalid UTF-8 must become the same
// replacement characters here, or guard and Trystero would disagree on a name.
const decoder = new TextDecoder()
const encoder = new TextEncoder()

export type TrysteroFrame =
  | { kind: 'room', roomToken: string, chunk: Uint8Array }
  | { kind: 'presence', roomToken: string, present: boolean }

/**
 * The room or presence frame in `bytes`, or `null` when Trystero 0.25 would not recognise it
 * (it drops those; a later Trystero may not).
 */
export const parseFrame = (bytes: Uint8Array): TrysteroFrame | null => {
  if (bytes.byteLength < 3) return null
  if (bytes[0] === roomFrameVersion) {
    const tokenLength = (bytes[1]! << 8) | bytes[2]!
    const headerLength = 3 + tokenLength
    if (tokenLength <= 0 || bytes.byteLength < headerLength) return null
    return { kind: 'room', roomToken: decoder.decode(bytes.subarray(3, headerLength)), chunk: bytes.subarray(headerLength) }
  }
  if (bytes[0] !== presenceFrameVersion || bytes.byteLength < 4) return null
  const tokenLength = (bytes[2]! << 8) | bytes[3]!
  const headerLength = 4 + tokenLength
  if (tokenLength <= 0 || bytes.byteLength < headerLength) return null
  return { kind: 'presence', roomToken: decoder.decode(bytes.subarray(4, headerLength)), present: bytes[1] === 1 }
}

export interface ActionChunkHeader {
  /** The action name as Trystero reads it: decoded, every NUL removed. */
  actionName: string
  nonce: number
  last: boolean
  meta: boolean
  binary: boolean
  json: boolean
  /** Bytes after the 36-byte header (what Trystero keeps of the chunk). */
  payloadBytes: number
}

/**
 * The header of an action chunk. Like Trystero, a chunk shorter than the header is read with the
 * missing bytes as 0 (Trystero then keeps it as an unfinished message), never rejected.
 */
export const parseActionChunk = (chunk: Uint8Array): ActionChunkHeader => {
  const tag = chunk[34] ?? 0
  return {
    actionName: decoder.decode(chunk.subarray(0, actionNameBytes)).replaceAll('\0', ''),
    nonce: ((chunk[32] ?? 0) << 8) | (chunk[33] ?? 0),
    last: (tag & tagLast) !== 0,
    meta: (tag & tagMeta) !== 0,
    binary: (tag & tagBinary) !== 0,
    json: (tag & tagJson) !== 0,
    payloadBytes: Math.max(0, chunk.byteLength - actionHeaderBytes)
  }
}

export interface ActionChunkFields {
  actionName: string
  nonce?: number
  last?: boolean
  meta?: boolean
  binary?: boolean
  json?: boolean
  /** 0–255; Trystero only reports it as receive progress. */
  progress?: number
  payload?: Uint8Array
}

/** One action chunk as Trystero 0.25 sends it. */
export const encodeActionChunk = (fields: ActionChunkFields): Uint8Array<ArrayBuffer> => {
  const name = encoder.encode(fields.actionName)
  const payload = fields.payload ?? new Uint8Array(0)
  const chunk = new Uint8Array(actionHeaderBytes + payload.byteLength)
  chunk.set(name.subarray(0, actionNameBytes))
  const nonce = fields.nonce ?? 0
  chunk[32] = (nonce >> 8) & 0xff
  chunk[33] = nonce & 0xff
  chunk[34] = (fields.last === false ? 0 : tagLast) | (fields.meta === true ? tagMeta : 0) |
    (fields.binary === true ? tagBinary : 0) | (fields.json === true ? tagJson : 0)
  chunk[35] = fields.progress ?? 255
  chunk.set(payload, actionHeaderBytes)
  return chunk
}

/** A room frame around `chunk`. */
export const encodeRoomFrame = (roomToken: string, chunk: Uint8Array): Uint8Array<ArrayBuffer> => {
  const token = encoder.encode(roomToken)
  const frame = new Uint8Array(3 + token.byteLength + chunk.byteLength)
  frame[0] = roomFrameVersion
  frame[1] = (token.byteLength >>> 8) & 0xff
  frame[2] = token.byteLength & 0xff
  frame.set(token, 3)
  frame.set(chunk, 3 + token.byteLength)
  return frame
}

/** A presence frame: the sender has (or no longer has) the room of `roomToken` joined. */
export const encodePresenceFrame = (roomToken: string, present: boolean): Uint8Array<ArrayBuffer> => {
  const token = encoder.encode(roomToken)
  const frame = new Uint8Array(4 + token.byteLength)
  frame[0] = presenceFrameVersion
  frame[1] = present ? 1 : 0
  frame[2] = (token.byteLength >>> 8) & 0xff
  frame[3] = token.byteLength & 0xff
  frame.set(token, 4)
  return frame
}

/**
 * The room token Trystero 0.25 puts in every room frame: hex SHA-256 of
 * `Trystero:${appId}:${roomId}` (crypto.mjs `deriveRoomNamespace`). The password plays no part.
 */
export const trysteroRoomToken = async (appId: string, roomId: string): Promise<string> => {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(`Trystero:${appId}:${roomId}`)))
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')
}
