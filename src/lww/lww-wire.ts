/**
 * LWW channel messages (PROTOCOL.md §4): the JSON state, carried as UTF-8 inside a binary
 * message — never as a Trystero JSON payload, whose parse failure would throw inside Trystero.
 */
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'

export type LwwMessageKind = 'state' | 'delta'

const kindNumbers: Record<LwwMessageKind, number> = { state: 0, delta: 1 }

export const encodeLwwMessage = (kind: LwwMessageKind, state: unknown): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, kindNumbers[kind])
  encoding.writeVarString(encoder, JSON.stringify(state))
  return encoding.toUint8Array(encoder)
}

/** Throws on malformed bytes or JSON; the state itself is validated by the CRDT's `merge`. */
export const decodeLwwMessage = (bytes: Uint8Array): { kind: LwwMessageKind, state: unknown } => {
  const decoder = decoding.createDecoder(bytes)
  const number = decoding.readVarUint(decoder)
  const kind = number === 0 ? 'state' : number === 1 ? 'delta' : null
  if (kind === null) throw new RangeError(`unknown LWW message kind ${number}`)
  return { kind, state: JSON.parse(decoding.readVarString(decoder)) }
}
