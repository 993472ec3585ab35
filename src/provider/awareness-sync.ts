/**
 * The awareness half of a provider (PROTOCOL.md §3.3 step 5, §3.5, §3.6): which remote client
 * ids each peer speaks for, applying a peer's awareness updates for those ids only, removing a
 * peer's states the moment it goes, and hiding our own state while the page is away.
 */
import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates, type Awareness } from 'y-protocols/awareness'
import { TrysteroYjsError } from '../errors.js'
import { decodeAwarenessEntries, encodeAwarenessEntries } from '../protocol/awareness-entries.js'
import { watchPage } from '../page-lifecycle.js'

/** Where what the awareness refuses is reported (the provider's `error` and `warning` events). */
export type AwarenessSyncReport = (kind: 'error' | 'warning', error: TrysteroYjsError) => void

/**
 * A provider's awareness normally has one client id per peer; a peer that announces more is
 * refused the rest, so that it cannot fill the ownership table.
 */
export const maxClientsPerPeer = 8
/** Ownership entries kept for the provider's lifetime, peers away included. */
export const maxOwners = 4096

export class AwarenessSync {
  /** Awareness client ids each peer announced with a state, to remove them when it goes. */
  private readonly clientsByPeer = new Map<string, Set<number>>()
  /**
   * Which peer speaks for a client id: the first to announce it, for the provider's lifetime —
   * also while that peer is away, so that nobody can take its cursor (or, PROTOCOL.md §3.6, its
   * edits) when it drops out for a moment. Bounded: see `maxOwners`.
   */
  private readonly owners = new Map<number, string>()
  /** Our state while it is hidden (disconnected, or the page hidden away). */
  private savedLocalState: Record<string, unknown> | null = null

  /** `origin` marks the changes we apply, so that we never send them back out. */
  constructor (
    readonly awareness: Awareness,
    private readonly origin: unknown,
    private readonly docName: string,
    private readonly report: AwarenessSyncReport
  ) {}

  /** The peer that speaks for a client id, or `null` if none has. */
  ownerOf (clientID: number): string | null {
    return this.owners.get(clientID) ?? null
  }

  /** The awareness client ids a peer speaks for. */
  clientsOf (peerId: string): number[] {
    return [...(this.clientsByPeer.get(peerId) ?? [])]
  }

  /** Our own state as an update, or `null` when we have none to show. */
  localUpdate (): Uint8Array | null {
    return this.awareness.getLocalState() === null ? null : encodeAwarenessUpdate(this.awareness, [this.awareness.clientID])
  }

  /**
   * The update to send for a change of the awareness, or `null`. Only our own state travels: we
   * never relay, and a remote state timing out here says nothing about whether other peers still
   * hear from that client.
   */
  outgoing (change: { added: number[], updated: number[], removed: number[] }, origin: unknown): Uint8Array | null {
    if (origin === this.origin) return null
    const own = this.awareness.clientID
    if (!change.added.includes(own) && !change.updated.includes(own) && !change.removed.includes(own)) return null
    return encodeAwarenessUpdate(this.awareness, [own])
  }

  /**
   * Applies a peer's awareness update for the ids it speaks for. `shown` is false for a peer that
   * has not (or no longer) announced the document: its message is validated, then ignored,
   * because nothing would remove its state when it goes.
   */
  receive (update: Uint8Array, peerId: string, byteLength: number, shown: boolean): void {
    let entries
    try {
      entries = decodeAwarenessEntries(update)
    } catch (error) {
      this.report('error', new TrysteroYjsError('malformed awareness update rejected', {
        peerId, messageType: 'awareness', byteLength, docName: this.docName, cause: error
      }))
      return
    }
    if (!shown) return
    const clients = this.clientsByPeer.get(peerId) ?? new Set<number>()
    this.clientsByPeer.set(peerId, clients)
    const accepted = entries.filter(({ clientID }) => {
      const why = this.refusal(clientID, peerId)
      if (why === null) {
        this.claim(clientID, peerId)
        return true
      }
      this.report('warning', new TrysteroYjsError(`awareness entry for client ${clientID} dropped: ${why}`, {
        peerId, messageType: 'awareness', byteLength, docName: this.docName
      }))
      return false
    })
    for (const { clientID, state } of accepted) {
      if (state === null) clients.delete(clientID)
      else clients.add(clientID)
    }
    if (accepted.length === 0) return
    applyAwarenessUpdate(this.awareness, accepted.length === entries.length ? update : encodeAwarenessEntries(accepted), this.origin)
  }

  /**
   * Removes every state a peer spoke for, present or removed (their clocks go too). The client
   * ids stay its own: only it can bring them back.
   */
  forgetPeer (peerId: string): void {
    const owned = [...this.owners].filter(([, owner]) => owner === peerId).map(([clientID]) => clientID)
    this.clientsByPeer.delete(peerId)
    this.forgetClients(owned)
  }

  /** Forgets every peer's states. Only what peers told us: an awareness shared with other providers keeps theirs. */
  forgetAll (): void {
    for (const peerId of new Set(this.owners.values())) this.forgetPeer(peerId)
  }

  /** Why `peerId` may not speak for `clientID`, or `null` if it may. */
  private refusal (clientID: number, peerId: string): string | null {
    if (clientID === this.awareness.clientID) return 'it is ours'
    const owner = this.owners.get(clientID)
    if (owner !== undefined) return owner === peerId ? null : `peer ${owner} speaks for it`
    let owned = 0
    for (const other of this.owners.values()) if (other === peerId) owned++
    return owned >= maxClientsPerPeer ? `the peer already speaks for ${owned} clients (at most ${maxClientsPerPeer})` : null
  }

  /** Records a claim; beyond `maxOwners`, the oldest claim of a peer that is away is forgotten. */
  private claim (clientID: number, peerId: string): void {
    if (this.owners.has(clientID)) return
    if (this.owners.size >= maxOwners) {
      for (const [oldClient, oldOwner] of this.owners) {
        if (!this.clientsByPeer.has(oldOwner)) {
          this.owners.delete(oldClient)
          break
        }
      }
    }
    this.owners.set(clientID, peerId)
  }

  /**
   * Sends our own awareness changes to the session `current()` returns (none while disconnected),
   * hides our state when the page goes away (`pagehide`: no `disconnect()` comes) and shows it
   * again when a restored page returns while connected. Returns the function that stops it all.
   */
  watch (current: () => { sendAwareness: (update: Uint8Array) => void } | null): () => void {
    const onUpdate = (change: { added: number[], updated: number[], removed: number[] }, origin: unknown): void => {
      const session = current()
      const update = session === null ? null : this.outgoing(change, origin)
      if (update !== null) session!.sendAwareness(update)
    }
    this.awareness.on('update', onUpdate)
    const unwatchPage = watchPage({
      hidden: () => this.hideLocal('window unload'),
      restored: () => { if (current() !== null) this.restoreLocal() }
    })
    return () => {
      this.awareness.off('update', onUpdate)
      unwatchPage()
    }
  }

  /** Hides our state (peers see it go at once) and keeps it for `restoreLocal()`. */
  hideLocal (reason: string): void {
    const state = this.awareness.getLocalState()
    if (state === null) return
    this.savedLocalState = state
    removeAwarenessStates(this.awareness, [this.awareness.clientID], reason)
  }

  /** Puts back the state hidden by `hideLocal()`, unless the app set one meanwhile. */
  restoreLocal (): void {
    const state = this.savedLocalState
    this.savedLocalState = null
    if (state !== null && this.awareness.getLocalState() === null) this.awareness.setLocalState(state)
  }

  /**
   * Removes remote states and their clocks. y-protocols keeps a removed client's clock and
   * ignores a state that does not beat it, so a peer that comes back with its unchanged state
   * would stay invisible until its 15 s renewal.
   */
  private forgetClients (clients: number[]): void {
    const present = clients.filter((id) => this.awareness.states.has(id))
    if (present.length > 0) removeAwarenessStates(this.awareness, present, this.origin)
    for (const id of clients) this.awareness.meta.delete(id)
  }
}
