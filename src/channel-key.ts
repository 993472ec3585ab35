/**
 * The Trystero action name that carries a document's traffic (PROTOCOL.md §3.1). Every peer must
 * derive the same name from the same document name, within Trystero's 32-byte limit.
 */
import { digest } from 'lib0/hash/sha256'
import { toBase64UrlEncoded } from 'lib0/buffer'

const maxActionBytes = 32
const literalPrefix = 'ty:d:'
const hashedPrefix = 'ty:h:'
const literalSafe = /^[A-Za-z0-9._~:/-]*$/

export const docChannelKey = (docName: string): string => {
  const literal = literalPrefix + docName
  if (literalSafe.test(docName) && literal.length <= maxActionBytes) return literal
  const hash = toBase64UrlEncoded(digest(new TextEncoder().encode(docName)))
  return hashedPrefix + hash.slice(0, maxActionBytes - hashedPrefix.length)
}
