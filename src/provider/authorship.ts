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
  /** Per peer, the clock it showed for each client id. */
  private readonly shownClocks = new Map<string, Map<number, number>>()
  private held: Array<HeldUpdate & { timer: ReturnType<typeof setTimeout> }> = []

  constructor (private readonly host: AuthorshipHost, private readonly graceMs = 3000) {}

  /** `peerId` has `client` up to `clock` (from its step 1, or an update it sent). */
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

  /** A peer left or closed the document: its updates on hold go, and it can no longer vouch. */
  peerGone (peerId: string): void {
    this.shownClocks.delete(peerId)
    for (const held of this.held.filter((h) => h.peerId === peerId)) this.drop(held)
    // Edits of an absent owner cannot be told from a relay: what waited for it goes in.
    this.recheck((suspect) => suspect.owner === peerId)
  }

  clear (): void {
    for (const held of this.held) clearTimeout(held.timer)
    this.held = []
    this.shownClocks.clear()
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
      if (to > (this.shownClocks.get(owner)?.get(client) ?? 0)) suspects.push({ client, owner, to })
    }
    return suspects
  }

  /** Releases, in arrival order, held updates whose every suspect is now vouched for. */
  private recheck (concerns: (suspect: Suspect) => boolean): void {
    for (const held of [...this.held]) {
      if (!held.suspects.some(concerns)) continue
      held.suspects = held.suspects.filter((s) => s.owner !== null && this.host.isPresent(s.owner) && s.to > (this.shownClocks.get(s.owner)?.get(s.client) ?? 0))
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
