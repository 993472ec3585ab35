/**
 * Document channel frames (PROTOCOL.md §3.2): one or more y-protocols sync / awareness messages
 * back to back. Pure encode/decode over lib0; applying them is the provider's business.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { readBoundedBytes } from './read-bytes.js'

/** y-websocket's outer message numbers, kept so captures read the same. */
export const messageSync = 0
export const messageAwareness = 1

/** y-protocols' sync message numbers (`y-protocols/sync`). */
const syncStep1 = 0
const syncStep2 = 1
const syncUpdate = 2

export type DocMessage =
  | { type: 'sync-step1', stateVector: Uint8Array }
  | { type: 'sync-step2', update: Uint8Array }
  | { type: 'sync-update', update: Uint8Array }
  | { type: 'awareness', update: Uint8Array }

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

const syncTypeName = (inner: number): string =>
  inner === syncStep1 ? 'sync-step1' : inner === syncStep2 ? 'sync-step2' : inner === syncUpdate ? 'sync-update' : `sync-unknown(${inner})`
