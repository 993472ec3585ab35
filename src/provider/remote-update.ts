/**
 * Applying a peer's update to the document whole or not at all (PROTOCOL.md §3.6).
 */
import * as Y from 'yjs'

export interface ApplyFailure {
  summary: string
  cause: unknown
  /** Whether the update is in the document despite the failure (an app observer threw after it). */
  applied: boolean
}

/**
 * Decodes the update fully before applying it: Yjs integrates structs before it reads the delete
 * set, so applying a truncated update directly could apply part of it. Returns `null` on success.
 */
export const applyRemoteUpdate = (doc: Y.Doc, update: Uint8Array, origin: unknown): ApplyFailure | null => {
  try {
    Y.decodeUpdate(update)
  } catch (error) {
    return { summary: 'malformed update rejected', cause: error, applied: false }
  }
  try {
    Y.applyUpdate(doc, update, origin)
  } catch (error) {
    return { summary: 'a document observer threw while a peer update was applied', cause: error, applied: true }
  }
  return null
}
