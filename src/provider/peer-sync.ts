/**
 * Where each peer with the document open stands (PROTOCOL.md §3.4): its role, whether it
 * answered our step 1, and — for a peer that announced the document and then never answers —
 * when to stop waiting for it. A peer is given `timeoutMs` from our step 1 without an answer,
 * extended while a long message of its comes in chunk by chunk (it may be the step 2, or ahead of
 * it on the channel); other whole messages (its cursor, its edits) are no answer and extend
 * nothing. Then it is reported, no longer waited for, and asked again, with the wait doubled each
 * time (up to a minute).
 */
import type { RoomRole } from '../admission/room-keys.js'

export interface PeerSyncState {
  /** A viewer's updates are refused, so we neither ask it for them nor wait for it. */
  readonly role: RoomRole
  /** A step 2 from this peer was applied since we sent it our step 1. */
  answered: boolean
  /** It did not answer in time: `synced` no longer waits for it (until it answers). */
  excused: boolean
  /** When we last sent it step 1. */
  askedAt: number
  /** When a chunk of a long message of its last arrived on this document (not its last chunk). */
  lastActivity: number
  /** The silence it is allowed before the next report and ask. */
  waitMs: number
}

export interface PeerSyncHost {
  /** `peerId` was silent for `silentMs` since we asked: report it, and send step 1 again. */
  overdue: (peerId: string, silentMs: number) => void
}

const maxWaitMs = 60_000

export class PeerSyncTable {
  private readonly peers = new Map<string, PeerSyncState>()
  private timer: ReturnType<typeof setInterval> | null = null

  constructor (private readonly timeoutMs: number, private readonly host: PeerSyncHost, private readonly now: () => number = Date.now) {}

  get ids (): string[] {
    return [...this.peers.keys()]
  }

  get size (): number {
    return this.peers.size
  }

  has (peerId: string): boolean {
    return this.peers.has(peerId)
  }

  get (peerId: string): PeerSyncState | undefined {
    return this.peers.get(peerId)
  }

  add (peerId: string, role: RoomRole): PeerSyncState {
    const now = this.now()
    const state: PeerSyncState = { role, answered: false, excused: false, askedAt: now, lastActivity: now, waitMs: this.timeoutMs }
    this.peers.set(peerId, state)
    this.startTimer()
    return state
  }

  delete (peerId: string): boolean {
    const deleted = this.peers.delete(peerId)
    if (this.peers.size === 0) this.stopTimer()
    return deleted
  }

  clear (): void {
    this.peers.clear()
    this.stopTimer()
  }

  /** The peers we ask for the document: writers (a viewer's answer would be refused). */
  writers (): string[] {
    return [...this.peers].filter(([, peer]) => peer.role === 'writer').map(([peerId]) => peerId)
  }

  /** Every writer answered, or is excused for not answering in time. */
  allAnswered (): boolean {
    for (const peer of this.peers.values()) if (peer.role === 'writer' && !peer.answered && !peer.excused) return false
    return true
  }

  asked (peerId: string): void {
    const peer = this.peers.get(peerId)
    if (peer !== undefined) peer.askedAt = this.now()
  }

  heardFrom (peerId: string): void {
    const peer = this.peers.get(peerId)
    if (peer !== undefined) peer.lastActivity = this.now()
  }

  private startTimer (): void {
    if (this.timer !== null || this.timeoutMs <= 0) return
    this.timer = setInterval(() => this.check(), Math.max(50, this.timeoutMs / 4))
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  private stopTimer (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private check (): void {
    const now = this.now()
    for (const [peerId, peer] of [...this.peers]) {
      if (peer.role !== 'writer' || peer.answered) continue
      const silentMs = now - Math.max(peer.askedAt, peer.lastActivity)
      if (silentMs < peer.waitMs) continue
      peer.excused = true
      peer.waitMs = Math.min(peer.waitMs * 2, maxWaitMs)
      peer.askedAt = now
      this.host.overdue(peerId, silentMs)
    }
  }
}
