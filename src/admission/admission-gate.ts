/**
 * Who in a room may see and change its documents (PROTOCOL.md §5.3). Without room credentials
 * every connected peer is admitted at once, as a writer. With them, each end of every connection
 * proves to the other that it holds the room's keys, and until a peer's proof has been checked
 * nothing of ours is sent to it and what it sends waits here (bounded), to be delivered in order
 * once it is admitted, or dropped.
 */
import { TrysteroYjsError } from '../errors.js'
import type { RoomMessage } from '../protocol/room-messages.js'
import { connectionFingerprints } from './channel-binding.js'
import { createProof, newNonce, nonceBytes, verifyProof, type ProofContext } from './proof.js'
import type { RoomCredentials, RoomRole } from './room-keys.js'

export interface AdmissionHost {
  /** The connection object of a peer (`room.getPeers()[peerId]`), for its fingerprints. */
  connectionOf: (peerId: string) => unknown
  /** Sends a room message to one peer. */
  send: (peerId: string, message: RoomMessage) => void
  /** The peer proved the room's keys: it may be told about our documents now. */
  admitted: (peerId: string, role: RoomRole) => void
  /** The peer failed admission: report it and disconnect it. */
  refused: (peerId: string, error: TrysteroYjsError) => void
}

export type AdmissionState = 'pending' | 'admitted' | 'refused'

/** What a pending peer may have us hold for it: a HELLO, a step 1 and a cursor are far less. */
export const maxHeldBytesPerPeer = 1024 * 1024

interface PeerAdmission {
  state: AdmissionState
  role: RoomRole | null
  nonce: Uint8Array
  remoteNonce: Uint8Array | null
  held: Array<() => void>
  heldBytes: number
}

export class AdmissionGate {
  private readonly peers = new Map<string, PeerAdmission>()

  /** `credentials` `null`: an open room, where everyone is admitted as a writer. */
  constructor (readonly credentials: RoomCredentials | null, private readonly host: AdmissionHost) {}

  /** Our own role in the room. */
  get role (): RoomRole {
    return this.credentials?.role ?? 'writer'
  }

  /** A peer connected (or reconnected: its earlier admission no longer counts). */
  peerAdded (peerId: string): void {
    const peer: PeerAdmission = { state: 'pending', role: null, nonce: newNonce(), remoteNonce: null, held: [], heldBytes: 0 }
    this.peers.set(peerId, peer)
    if (this.credentials === null) {
      this.admit(peerId, peer, 'writer')
      return
    }
    this.host.send(peerId, { type: 'challenge', nonce: peer.nonce })
  }

  peerRemoved (peerId: string): void {
    this.peers.delete(peerId)
  }

  /** We disconnected the peer: whatever it sends from now on is dropped. */
  shut (peerId: string): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined) return
    peer.state = 'refused'
    peer.held = []
    peer.heldBytes = 0
  }

  state (peerId: string): AdmissionState | null {
    return this.peers.get(peerId)?.state ?? null
  }

  roleOf (peerId: string): RoomRole | null {
    return this.peers.get(peerId)?.role ?? null
  }

  /**
   * Runs `deliver` now if the peer is admitted, later if it is still proving itself, never if it
   * was refused or is unknown. A peer that speaks before its challenge cannot be one of ours.
   */
  hold (peerId: string, byteLength: number, messageType: string, deliver: () => void): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined || peer.state === 'refused') return
    if (peer.state === 'admitted') {
      deliver()
      return
    }
    if (peer.remoteNonce === null) {
      this.refuse(peerId, peer, `sent ${messageType} before proving the room key: it has no key of this room, or speaks trystero-yjs without admission`, { messageType, byteLength })
      return
    }
    if (peer.heldBytes + byteLength > maxHeldBytesPerPeer) {
      this.refuse(peerId, peer, `sent over ${maxHeldBytesPerPeer} bytes before it was admitted`, { messageType, byteLength })
      return
    }
    peer.heldBytes += byteLength
    peer.held.push(deliver)
  }

  /** A CHALLENGE or PROOF from a peer. */
  receive (peerId: string, message: Extract<RoomMessage, { type: 'challenge' | 'proof' }>, byteLength: number): void {
    const peer = this.peers.get(peerId)
    const credentials = this.credentials
    if (peer === undefined || peer.state === 'refused' || credentials === null) return
    if (message.type === 'challenge') {
      if (peer.remoteNonce !== null || message.nonce.byteLength !== nonceBytes) {
        this.refuse(peerId, peer, peer.remoteNonce !== null ? 'sent a second challenge' : `sent a ${message.nonce.byteLength}-byte nonce`, { messageType: 'challenge', byteLength })
        return
      }
      peer.remoteNonce = message.nonce
      const context = this.context(peerId, peer, 'prover')
      if (context === null) return
      void createProof(credentials, context).then(
        (proof) => { if (this.peers.get(peerId) === peer && peer.state !== 'refused') this.host.send(peerId, { type: 'proof', ...proof }) },
        (error: unknown) => this.refuse(peerId, peer, 'could not make our proof', { messageType: 'proof', cause: error }))
      return
    }
    if (peer.state === 'admitted' || peer.remoteNonce === null) {
      this.refuse(peerId, peer, peer.state === 'admitted' ? 'sent a second proof' : 'sent a proof before its challenge', { messageType: 'proof', byteLength })
      return
    }
    const context = this.context(peerId, peer, 'verifier')
    if (context === null) return
    void verifyProof(credentials, message, context).then(
      (failure) => {
        if (this.peers.get(peerId) !== peer || peer.state !== 'pending') return
        if (failure === null) this.admit(peerId, peer, message.role)
        else this.refuse(peerId, peer, failure, { messageType: 'proof', byteLength })
      },
      (error: unknown) => this.refuse(peerId, peer, 'its proof could not be checked', { messageType: 'proof', byteLength, cause: error }))
  }

  /** The transcript of this connection, seen from our side as `prover` or `verifier`. */
  private context (peerId: string, peer: PeerAdmission, us: 'prover' | 'verifier'): ProofContext | null {
    const fingerprints = connectionFingerprints(this.host.connectionOf(peerId))
    if (fingerprints === null) {
      this.refuse(peerId, peer, 'its connection has no DTLS fingerprint to bind a proof to', { messageType: us === 'prover' ? 'challenge' : 'proof' })
      return null
    }
    const ours = { nonce: peer.nonce, fingerprint: fingerprints.local }
    const theirs = { nonce: peer.remoteNonce!, fingerprint: fingerprints.remote }
    const [prover, verifier] = us === 'prover' ? [ours, theirs] : [theirs, ours]
    return { proverNonce: prover.nonce, verifierNonce: verifier.nonce, proverFingerprint: prover.fingerprint, verifierFingerprint: verifier.fingerprint }
  }

  private admit (peerId: string, peer: PeerAdmission, role: RoomRole): void {
    peer.state = 'admitted'
    peer.role = role
    this.host.admitted(peerId, role)
    const held = peer.held.splice(0)
    peer.heldBytes = 0
    for (const deliver of held) {
      if (this.peers.get(peerId) !== peer) return
      deliver()
    }
  }

  private refuse (peerId: string, peer: PeerAdmission, why: string, details: { messageType?: string, byteLength?: number, cause?: unknown }): void {
    if (this.peers.get(peerId) !== peer || peer.state === 'refused') return
    peer.state = 'refused'
    peer.held = []
    peer.heldBytes = 0
    this.host.refused(peerId, new TrysteroYjsError(`peer refused admission: ${why}`, { peerId, ...details }))
  }
}
