/**
 * Whose edits a peer may bring (PROTOCOL.md §3.6). A client id belongs to the peer that announced
 * it in its awareness; edits of that client that reach us from someone else, beyond what the
 * owner itself showed us (its state vector, its own updates), did not come from the owner — or
 * merely overtook the owner's own message (a step 2 from a third peer racing the owner's update).
 *
 * So such an update waits, at most `graceMs`, for the owner to show it has those clocks. If it
 * does, the held update adds nothing Yjs does not already have from the owner (Yjs keeps the
 * first struct of an id), and is applied. If it does not, the update is refused, whole, and
 * reported as forged. Our own client id is never anyone else's to write.
 */
import * as Y from 'yjs'
import type { ClockRange, UpdateFormat } from '../sync/update-check.js'

/** Per client id, the clocks an update carries. */
export type ClockRanges = Map<number, ClockRange>

export interface Suspect {
  client: number
  /** The peer that speaks for the client; `null` for our own client id. */
  owner: string | null
  /** The clock the update reaches. */
  to: number
}

export interface HeldUpdate {
  update: Uint8Array
  /** `v2` for a compact message's update (PROTOCOL.md §3.7). */
  format: UpdateFormat
  ranges: ClockRanges
  peerId: string
  messageType: string
  byteLength: number
  suspects: Suspect[]
}

export interface AuthorshipHost {
  readonly doc: Y.Doc
  /** The peer that speaks for a client id, if any. */
  ownerOf: (client: number) => string | null
  /** Whether that peer is connected with the document open (else its edits may come by relay). */
  isPresent: (peerId: string) => boolean
  /** A held update turned out fine. */
  release: (held: HeldUpdate) => void
  /** A held update was not vouched for in time, or names our own client. */
  refuse: (held: HeldUpdate, suspect: Suspect) => void
}

/** Held bytes per sending peer; beyond it the update is refused at once. */
export const maxHeldBytesPerPeer = 4 * 1024 * 1024

export class AuthorshipGuard {
  /** Per peer, the clock it showed for each client id by the updates of its we applied. */
  private readonly shownClocks = new Map<string, Map<number, number>>()
  /**
   * Per peer, its latest state vector (step 1, or HELLO/OPEN), kept as it is, not merged into
   * `shownClocks`: a peer can list millions of client ids in one (6 bytes each), and merging every
   * one it ever sent kept them all until it left (20 step 1s of 200,000 made-up ids: +112 MiB).
   * An honest peer's state vectors only grow, so the latest says all the earlier ones did.
   */
  private readonly stateVectors = new Map<string, Map<number, number>>()
  private held: Array<HeldUpdate & { timer: ReturnType<typeof setTimeout> }> = []

  constructor (private readonly host: AuthorshipHost, private readonly graceMs = 3000) {}

  /** `peerId` has what its state vector says (its step 1, HELLO or OPEN): it replaces the one before. */
  showStateVector (peerId: string, stateVector: Map<number, number>): void {
    this.stateVectors.set(peerId, stateVector)
    this.recheck((suspect) => suspect.owner === peerId)
  }

  /** `peerId` has `client` up to `clock` (an update of its we applied). */
  show (peerId: string, client: number, clock: number): void {
    let clocks = this.shownClocks.get(peerId)
    if (clocks === undefined) {
      clocks = new Map()
      this.shownClocks.set(peerId, clocks)
    }
    if (clock <= (clocks.get(client) ?? 0)) return
    clocks.set(client, clock)
    this.recheck((suspect) => suspect.owner === peerId && suspect.client === client)
  }

  /**
   * Decides an update from `peerId` (already validated): `apply` now, `held` (the host hears of
   * it through `release` or `refuse`), or `refused` (already reported through `refuse`).
   */
  check (candidate: Omit<HeldUpdate, 'suspects'>): 'apply' | 'held' | 'refused' {
    const suspects = this.suspects(candidate.ranges, candidate.peerId)
    if (suspects.length === 0) return 'apply'
    const held = { ...candidate, suspects }
    const own = suspects.find((s) => s.owner === null)
    let heldBytes = candidate.byteLength
    for (const h of this.held) if (h.peerId === candidate.peerId) heldBytes += h.byteLength
    if (own !== undefined || heldBytes > maxHeldBytesPerPeer) {
      this.host.refuse(held, own ?? suspects[0]!)
      return 'refused'
    }
    const entry = { ...held, timer: setTimeout(() => this.expire(entry), this.graceMs) }
    this.held.push(entry)
    return 'held'
  }

  /** How many updates from `peerId` are on hold. */
  heldFrom (peerId: string): number {
    let count = 0
    for (const held of this.held) if (held.peerId === peerId) count++
    return count
  }

  /** A peer left or closed the document: its updates on hold go, and it can no longer vouch. */
  peerGone (peerId: string): void {
    this.shownClocks.delete(peerId)
    this.stateVectors.delete(peerId)
    for (const held of this.held.filter((h) => h.peerId === peerId)) this.drop(held)
    // Edits of an absent owner cannot be told from a relay: what waited for it goes in.
    this.recheck((suspect) => suspect.owner === peerId)
  }

  clear (): void {
    for (const held of this.held) clearTimeout(held.timer)
    this.held = []
    this.shownClocks.clear()
    this.stateVectors.clear()
  }

  private suspects (ranges: ClockRanges, peerId: string): Suspect[] {
    const { doc } = this.host
    const suspects: Suspect[] = []
    for (const [client, { to }] of ranges) {
      if (to <= Y.getState(doc.store, client)) continue
      if (client === doc.clientID) {
        suspects.push({ client, owner: null, to })
        continue
      }
      const owner = this.host.ownerOf(client)
      if (owner === null || owner === peerId || !this.host.isPresent(owner)) continue
      if (to > this.shownClock(owner, client)) suspects.push({ client, owner, to })
    }
    return suspects
  }

  /** The clock `peerId` showed for `client`, by its state vector or its updates. */
  private shownClock (peerId: string, client: number): number {
    return Math.max(this.shownClocks.get(peerId)?.get(client) ?? 0, this.stateVectors.get(peerId)?.get(client) ?? 0)
  }

  /** Releases, in arrival order, held updates whose every suspect is now vouched for. */
  private recheck (concerns: (suspect: Suspect) => boolean): void {
    for (const held of [...this.held]) {
      if (!held.suspects.some(concerns)) continue
      held.suspects = held.suspects.filter((s) => s.owner !== null && this.host.isPresent(s.owner) && s.to > this.shownClock(s.owner, s.client))
      if (held.suspects.length > 0) continue
      this.drop(held)
      this.host.release(held)
    }
  }

  private expire (held: HeldUpdate & { timer: ReturnType<typeof setTimeout> }): void {
    if (!this.held.includes(held)) return
    this.drop(held)
    this.host.refuse(held, held.suspects[0]!)
  }

  private drop (held: HeldUpdate & { timer: ReturnType<typeof setTimeout> }): void {
    clearTimeout(held.timer)
    this.held = this.held.filter((h) => h !== held)
  }
}
