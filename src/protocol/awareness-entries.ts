/**
 * Reads a y-protocols awareness update without applying it (PROTOCOL.md §3.6), so that a malformed
 * one is rejected whole instead of half-applied, and so that the provider learns which client ids
 * a peer speaks for (to remove them at once when the peer leaves).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

export interface AwarenessEntry {
  clientID: number
  clock: number
  /** `null` when the entry removes the client's state. */
  state: unknown
}

/** Throws on any malformed entry, including state JSON that does not parse. */
export const decodeAwarenessEntries = (update: Uint8Array): AwarenessEntry[] => {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  // Every entry is at least 3 bytes (client id, clock, a string length).
  if (count * 3 > update.length - decoder.pos) throw new RangeError(`awareness update claims ${count} entries in ${update.length} bytes`)
  const entries: AwarenessEntry[] = []
  for (let i = 0; i < count; i++) {
    const clientID = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const state: unknown = JSON.parse(decoding.readVarString(decoder))
    entries.push({ clientID, clock, state })
  }
  return entries
}

/** The inverse of `decodeAwarenessEntries`: y-protocols' awareness update encoding. */
export const encodeAwarenessEntries = (entries: readonly AwarenessEntry[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, entries.length)
  for (const { clientID, clock, state } of entries) {
    encoding.writeVarUint(encoder, clientID)
    encoding.writeVarUint(encoder, clock)
    encoding.writeVarString(encoder, JSON.stringify(state))
  }
  return encoding.toUint8Array(encoder)
}
