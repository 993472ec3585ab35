/**
 * The Trystero action name that carries a channel's traffic (PROTOCOL.md §3.1): a Yjs document
 * (`d`), an LWW register (`lr`) or map (`lm`). Every peer must derive the same name from the same
 * kind and name, within Trystero's 32-byte limit.
 */
import { digest } from 'lib0/hash/sha256'
import { toBase64UrlEncoded } from 'lib0/buffer'

export type ChannelKind = 'd' | 'lr' | 'lm'

const maxActionBytes = 32
const hashedPrefix = 'ty:h:'
const literalSafe = /^[A-Za-z0-9._~:/-]*$/

export const channelKey = (kind: ChannelKind, name: string): string => {
  const literal = `ty:${kind}:${name}`
  if (literalSafe.test(name) && literal.length <= maxActionBytes) return literal
  const hash = toBase64UrlEncoded(digest(new TextEncoder().encode(`${kind}\u0000${name}`)))
  return hashedPrefix + hash.slice(0, maxActionBytes - hashedPrefix.length)
}

/** The action name of the Yjs document called `docName` in a room. */
export const docChannelKey = (docName: string): string => channelKey('d', docName)
