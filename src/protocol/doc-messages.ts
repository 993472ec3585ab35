/**
 * Document channel frames (PROTOCOL.md §3.2): one or more y-protocols sync / awareness messages
 * back to back, and COMPACT messages between peers that accept them (§3.7). Pure encode/decode
 * over lib0; expanding and applying them is the provider's business.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { readBoundedBytes } from './read-bytes.js'

/** y-websocket's outer message numbers, kept so captures read the same. */
export const messageSync = 0
export const messageAwareness = 1
/** A step 2 or an update in Yjs format V2, maybe compressed (PROTOCOL.md §3.7). */
export const messageCompact = 2

/** COMPACT's flag: the payload is deflate-raw compressed. */
const flagDeflated = 1

/** y-protocols' sync message numbers (`y-protocols/sync`). */
const syncStep1 = 0
const syncStep2 = 1
const syncUpdate = 2

export type DocMessage =
  | { type: 'sync-step1', stateVector: Uint8Array }
  | { type: 'sync-step2', update: Uint8Array }
  | { type: 'sync-update', update: Uint8Array }
  | { type: 'awareness', update: Uint8Array }
  | CompactMessage

/**
 * A step 2 or update in Yjs format V2 (`payload`: as it is, or deflate-raw compressed), only for
 * peers that set `compactSync` in HELLO. `updateBytes` is the V2 update's length.
 */
export interface CompactMessage {
  type: 'compact'
  syncType: 'sync-step2' | 'sync-update'
  compressed: boolean
  updateBytes: number
  payload: Uint8Array
}

export const encodeFrame = (messages: readonly DocMessage[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  for (const message of messages) writeMessage(encoder, message)
  return encoding.toUint8Array(encoder)
}

const writeMessage = (encoder: encoding.Encoder, message: DocMessage): void => {
  switch (message.type) {
    case 'sync-step1':
      encoding.writeVarUint(encoder, messageSync)
      encoding.writeVarUint(encoder, syncStep1)
      encoding.writeVarUint8Array(encoder, message.stateVector)
      return
    case 'sync-step2':
    case 'sync-update':
      encoding.writeVarUint(encoder, messageSync)
      encoding.writeVarUint(encoder, message.type === 'sync-step2' ? syncStep2 : syncUpdate)
      encoding.writeVarUint8Array(encoder, message.update)
      return
    case 'awareness':
      encoding.writeVarUint(encoder, messageAwareness)
      encoding.writeVarUint8Array(encoder, message.update)
      return
    case 'compact':
      encoding.writeVarUint(encoder, messageCompact)
      encoding.writeVarUint(encoder, message.syncType === 'sync-step2' ? syncStep2 : syncUpdate)
      encoding.writeVarUint(encoder, message.compressed ? flagDeflated : 0)
      encoding.writeVarUint(encoder, message.updateBytes)
      encoding.writeVarUint8Array(encoder, message.payload)
  }
}

/** Why the rest of a frame could not be read. Messages before it are still good. */
export interface FrameFailure {
  /** The type of the message that could not be read, as far as it was read. */
  messageType: string
  cause: string
}

export interface DecodedFrame {
  messages: DocMessage[]
  failure: FrameFailure | null
}

/**
 * Splits a frame into messages. Never throws: a malformed message ends the frame and is described
 * in `failure`. Message bodies are views into `frame`, not copies.
 */
export const decodeFrame = (frame: Uint8Array): DecodedFrame => {
  const messages: DocMessage[] = []
  if (frame.byteLength === 0) return { messages, failure: { messageType: 'frame', cause: 'empty frame' } }
  const decoder = decoding.createDecoder(frame)
  let messageType = 'frame'
  try {
    while (decoding.hasContent(decoder)) {
      messageType = 'frame'
      const outer = decoding.readVarUint(decoder)
      if (outer === messageSync) {
        messageType = 'sync'
        const inner = decoding.readVarUint(decoder)
        messageType = syncTypeName(inner)
        const body = readBoundedBytes(decoder)
        if (inner === syncStep1) messages.push({ type: 'sync-step1', stateVector: body })
        else if (inner === syncStep2) messages.push({ type: 'sync-step2', update: body })
        else if (inner === syncUpdate) messages.push({ type: 'sync-update', update: body })
        else return { messages, failure: { messageType, cause: 'unknown sync message type' } }
      } else if (outer === messageAwareness) {
        messageType = 'awareness'
        messages.push({ type: 'awareness', update: readBoundedBytes(decoder) })
      } else if (outer === messageCompact) {
        messageType = 'compact'
        const failure = readCompact(decoder, messages)
        if (failure !== null) return { messages, failure: { messageType, cause: failure } }
      } else {
        // Without a length we cannot skip an unknown message: the rest of the frame is lost.
        return { messages, failure: { messageType: `unknown(${outer})`, cause: 'unknown message type' } }
      }
    }
  } catch (error) {
    return { messages, failure: { messageType, cause: error instanceof Error ? error.message : String(error) } }
  }
  return { messages, failure: null }
}

/** Reads COMPACT's body into `messages`; returns why it cannot, if it cannot. */
const readCompact = (decoder: decoding.Decoder, messages: DocMessage[]): string | null => {
  const inner = decoding.readVarUint(decoder)
  const flags = decoding.readVarUint(decoder)
  const updateBytes = decoding.readVarUint(decoder)
  const payload = readBoundedBytes(decoder)
  if (inner !== syncStep2 && inner !== syncUpdate) return `unknown compact sync type ${inner}`
  if ((flags & ~flagDeflated) !== 0) return `unknown compact flags ${flags}`
  const compressed = flags === flagDeflated
  if (!compressed && payload.byteLength !== updateBytes) return `uncompressed payload of ${payload.byteLength} bytes announced as ${updateBytes}`
  messages.push({ type: 'compact', syncType: inner === syncStep2 ? 'sync-step2' : 'sync-update', compressed, updateBytes, payload })
  return null
}

const syncTypeName = (inner: number): string =>
  inner === syncStep1 ? 'sync-step1' : inner === syncStep2 ? 'sync-step2' : inner === syncUpdate ? 'sync-update' : `sync-unknown(${inner})`
