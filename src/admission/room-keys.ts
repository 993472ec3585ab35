/**
 * The secrets of a private room (PROTOCOL.md §5.1). A password is stretched once into a *write
 * key*; the *view key* is derived from the write key, so that whoever can write can also hand
 * out read-only access, and nobody can go the other way. Links carry these keys, never the password.
 *
 * - writeKey  = PBKDF2-SHA-256(password, salt "trystero-yjs/write-key" NUL appId NUL roomId, 600,000 iterations), 32 bytes
 * - viewSecret = HKDF-SHA-256(writeKey, "trystero-yjs/view-key"), 32 bytes
 * - the writers' Ed25519 key pair, from the seed HKDF-SHA-256(writeKey, "trystero-yjs/writer-signing")
 * - viewKey   = viewSecret ‖ the writers' public key, 64 bytes: a viewer can check that a peer
 *   writes (a signature) without being able to write.
 * - broadcastKey = HKDF-SHA-256(viewSecret, "trystero-yjs/broadcast"): AES-GCM between tabs (§7).
 * Keys are written as base64url.
 */
import { fromBase64UrlEncoded, toBase64UrlEncoded } from 'lib0/buffer'
import { TrysteroYjsError } from '../errors.js'

/** OWASP's 2023 figure for PBKDF2-HMAC-SHA-256: slow for a guesser, once per room for us. */
export const passwordIterations = 600_000
const secretBytes = 32

/** `writer`: the password or the write key; `viewer`: the view key only (reads, shows a cursor, cannot write). */
export type RoomRole = 'writer' | 'viewer'

/** A private room's keys as strings, to put in a link. `writeKey` is `null` for a viewer. */
export interface RoomKeys {
  /** Gives the `writer` role: put it in an editor link. `null` when only the view key is known. */
  writeKey: string | null
  /** Gives the `viewer` role: put it in a read-only link. */
  viewKey: string
}

/** One of the three ways into a private room. */
export type RoomSecret = { password: string } | { writeKey: string } | { viewKey: string }

/** What the provider proves and uses in a private room (PROTOCOL.md §5). */
export interface RoomCredentials {
  readonly role: RoomRole
  readonly keys: RoomKeys
  /** HMAC key proving membership; every admitted peer has it. */
  readonly memberKey: CryptoKey
  /** Signs write proofs; `null` for a viewer. */
  readonly writerSigningKey: CryptoKey | null
  /** Checks write proofs; every member has it. */
  readonly writerVerifyKey: CryptoKey
  /** Given to Trystero as its `password`, which encrypts the signaling; viewers know it too. */
  readonly signalingPassword: string
  /** AES-GCM key of what crosses the BroadcastChannel between tabs (PROTOCOL.md §7); viewers have it too. */
  readonly broadcastKey: CryptoKey
}

const encoder = new TextEncoder()
const writeKeyCache = new Map<string, Promise<Uint8Array>>()

/**
 * The write and view keys of a room from its password: what an editor link and a read-only link
 * carry. Slow on purpose (PBKDF2), and cached for the page's lifetime.
 */
export const deriveRoomKeys = async (password: string, room: { appId: string, roomId: string }): Promise<RoomKeys> =>
  (await roomCredentials({ password }, room)).keys

/** The view key that goes with a write key: a read-only link made from an editor link. */
export const viewKeyOf = async (writeKey: string): Promise<string> =>
  (await roomCredentials({ writeKey }, { appId: '', roomId: null })).keys.viewKey

export const roomCredentials = async (secret: RoomSecret, room: { appId: string, roomId: string | null }): Promise<RoomCredentials> => {
  if ('viewKey' in secret) {
    const bytes = decodeKey(secret.viewKey, 'viewKey', 2 * secretBytes)
    return await credentials(null, bytes.subarray(0, secretBytes), bytes.subarray(secretBytes))
  }
  let write: Uint8Array
  if ('password' in secret) {
    if (room.roomId === null) {
      throw new TrysteroYjsError('a password with a room object needs options.roomId, the id the room was joined with: the keys are bound to the room')
    }
    write = await writeKeyFromPassword(secret.password, room.appId, room.roomId)
  } else {
    write = decodeKey(secret.writeKey, 'writeKey', secretBytes)
  }
  return await credentials(write, await hkdf(write, 'trystero-yjs/view-key'), null)
}

const credentials = async (write: Uint8Array | null, viewSecret: Uint8Array, publicKey: Uint8Array | null): Promise<RoomCredentials> => {
  let writerSigningKey: CryptoKey | null = null
  if (write !== null) {
    writerSigningKey = await ed25519PrivateKey(await hkdf(write, 'trystero-yjs/writer-signing'))
    publicKey = await ed25519PublicBytes(writerSigningKey)
  }
  const view = new Uint8Array(2 * secretBytes)
  view.set(viewSecret)
  view.set(publicKey!, secretBytes)
  return {
    role: write === null ? 'viewer' : 'writer',
    keys: { writeKey: write === null ? null : toBase64UrlEncoded(write), viewKey: toBase64UrlEncoded(view) },
    memberKey: await crypto.subtle.importKey('raw', bytes(await hkdf(viewSecret, 'trystero-yjs/member-proof')), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    writerSigningKey,
    writerVerifyKey: await crypto.subtle.importKey('raw', bytes(publicKey!), { name: 'Ed25519' }, false, ['verify']),
    signalingPassword: toBase64UrlEncoded(await hkdf(viewSecret, 'trystero-yjs/signaling')),
    broadcastKey: await crypto.subtle.importKey('raw', bytes(await hkdf(viewSecret, 'trystero-yjs/broadcast')), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt'])
  }
}

const writeKeyFromPassword = async (password: string, appId: string, roomId: string): Promise<Uint8Array> => {
  const cacheKey = `${appId}\u0000${roomId}\u0000${password}`
  let derived = writeKeyCache.get(cacheKey)
  if (derived === undefined) {
    derived = (async () => {
      const base = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits'])
      const salt = encoder.encode(`trystero-yjs/write-key\u0000${appId}\u0000${roomId}`)
      return new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: passwordIterations }, base, secretBytes * 8))
    })()
    writeKeyCache.set(cacheKey, derived)
    derived.catch(() => writeKeyCache.delete(cacheKey))
  }
  return await derived
}

const hkdf = async (secret: Uint8Array, info: string): Promise<Uint8Array> => {
  const base = await crypto.subtle.importKey('raw', bytes(secret), 'HKDF', false, ['deriveBits'])
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(info) }, base, secretBytes * 8))
}

/** WebCrypto imports an Ed25519 private key from PKCS #8 only: the fixed header, then the seed. */
const pkcs8Ed25519Header = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20)

const ed25519PrivateKey = async (seed: Uint8Array): Promise<CryptoKey> => {
  const pkcs8 = new Uint8Array(pkcs8Ed25519Header.length + seed.length)
  pkcs8.set(pkcs8Ed25519Header)
  pkcs8.set(seed, pkcs8Ed25519Header.length)
  // Extractable only so that its public half can be read (JWK `x`); it never leaves this module.
  return await crypto.subtle.importKey('pkcs8', bytes(pkcs8), { name: 'Ed25519' }, true, ['sign'])
}

const ed25519PublicBytes = async (privateKey: CryptoKey): Promise<Uint8Array> => {
  const { x } = await crypto.subtle.exportKey('jwk', privateKey)
  return fromBase64UrlEncoded(x!)
}

const decodeKey = (key: string, name: string, length: number): Uint8Array => {
  const bytes = /^[A-Za-z0-9_-]*$/.test(key) ? fromBase64UrlEncoded(key) : new Uint8Array(0)
  if (bytes.byteLength !== length) {
    throw new TrysteroYjsError(`options.${name} must be ${length} bytes in base64url (${Math.ceil(length * 4 / 3)} characters); got ${key.length} characters`)
  }
  return bytes
}

/** lib0 and WebCrypto type their byte arrays differently; both are plain ArrayBuffer-backed here. */
const bytes = (array: Uint8Array): BufferSource => array as Uint8Array<ArrayBuffer>
