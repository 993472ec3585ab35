/**
 * Reading and applying a peer's update (PROTOCOL.md §3.6): decoded whole before anything is
 * applied, and the client clock ranges it carries, so that the caller can tell whose edits it
 * brings before they are in the document.
 */
import * as Y from 'yjs'

/** Per client id, the clocks an update carries: `[from, to)`. */
export type ClockRanges = Map<number, { from: number, to: number }>

export type UpdateReading = { ok: true, ranges: ClockRanges } | { ok: false, cause: unknown }

/**
 * Decodes the update fully: Yjs integrates structs before it reads the delete set, so applying
 * a truncated update directly could apply part of it.
 */
export const readUpdate = (update: Uint8Array): UpdateReading => {
  let structs
  try {
    structs = Y.decodeUpdate(update).structs
  } catch (error) {
    return { ok: false, cause: error }
  }
  const ranges: ClockRanges = new Map()
  for (const struct of structs) {
    // Skips stand for clocks the update does not carry.
    if (struct.constructor === Y.Skip) continue
    const { client, clock } = struct.id
    const range = ranges.get(client)
    if (range === undefined) ranges.set(client, { from: clock, to: clock + struct.length })
    else {
      range.from = Math.min(range.from, clock)
      range.to = Math.max(range.to, clock + struct.length)
    }
  }
  return { ok: true, ranges }
}

export interface ApplyFailure {
  summary: string
  cause: unknown
  /** Whether the update is in the document despite the failure (an app observer threw after it). */
  applied: boolean
}

/** Applies an update that `readUpdate` accepted. Returns `null` on success. */
export const applyReadUpdate = (doc: Y.Doc, update: Uint8Array, origin: unknown): ApplyFailure | null => {
  try {
    Y.applyUpdate(doc, update, origin)
  } catch (error) {
    return { summary: 'a document observer threw while a peer update was applied', cause: error, applied: true }
  }
  return null
}
