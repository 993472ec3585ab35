/**
 * Admission proofs (PROTOCOL.md §5.2), over a transcript that names this one connection. Fresh
 * nonces from both ends make a proof useless later; the DTLS certificate fingerprints of both
 * ends make it useless on any other connection: a peer that relays another member's proof to us
 * sits on another connection, with another certificate. (Trystero peer ids cannot do this: a peer
 * cannot learn its own id from a room object, and a peer chooses its id itself.)
 *
 * - member proof: HMAC-SHA-256 under the member key (every member has it);
 * - write proof: an Ed25519 signature by the writers' key, which any member can check and only
 *   a writer can make.
 */
import * as encoding from 'lib0/encoding'
import type { RoomCredentials, RoomRole } from './room-keys.js'

export const nonceBytes = 32

/** The connection as the transcript names it. */
export interface ProofContext {
  proverNonce: Uint8Array
  verifierNonce: Uint8Array
  proverFingerprint: string
  verifierFingerprint: string
}

export interface Proof {
  role: RoomRole
  memberMac: Uint8Array
  /** Present when `role` is `writer`. */
  writerSignature: Uint8Array | null
}

export const newNonce = (): Uint8Array => crypto.getRandomValues(new Uint8Array(nonceBytes))

const transcript = (label: 'member' | 'writer', context: ProofContext): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, `trystero-yjs/admission/v1/${label}`)
  encoding.writeVarUint8Array(encoder, context.verifierNonce)
  encoding.writeVarUint8Array(encoder, context.proverNonce)
  encoding.writeVarString(encoder, context.proverFingerprint)
  encoding.writeVarString(encoder, context.verifierFingerprint)
  return encoding.toUint8Array(encoder)
}

/** lib0 and WebCrypto type their byte arrays differently; both are plain ArrayBuffer-backed here. */
const bytes = (array: Uint8Array): BufferSource => array as Uint8Array<ArrayBuffer>


export const createProof = async (credentials: RoomCredentials, context: ProofContext): Promise<Proof> => ({
  role: credentials.role,
  memberMac: new Uint8Array(await crypto.subtle.sign('HMAC', credentials.memberKey, bytes(transcript('member', context)))),
  writerSignature: credentials.writerSigningKey === null
    ? null
    : new Uint8Array(await crypto.subtle.sign('Ed25519', credentials.writerSigningKey, bytes(transcript('writer', context))))
})

/** `null` if the proof holds, else why not (for the report). */
export const verifyProof = async (credentials: RoomCredentials, proof: Proof, context: ProofContext): Promise<string | null> => {
  if (!await crypto.subtle.verify('HMAC', credentials.memberKey, bytes(proof.memberMac), bytes(transcript('member', context)))) {
    return 'wrong room key: it knows neither the password nor a key of this room'
  }
  if (proof.role === 'viewer') return null
  if (proof.writerSignature === null || !await crypto.subtle.verify('Ed25519', credentials.writerVerifyKey, bytes(proof.writerSignature), bytes(transcript('writer', context)))) {
    return 'claims to write without a valid write proof'
  }
  return null
}
