/**
 * The room hub's directory of WebRTC peers (PROTOCOL.md §2): which channels each connected peer
 * has open, as its HELLO, OPEN and CLOSE said, and which peers are still *pending* (no HELLO yet,
 * so they may have any channel open). A peer that sends no HELLO within `helloTimeoutMs` is taken
 * as having none. The hub decides what a message means; this only keeps the books and says what
 * changed, per channel.
 */

export interface RemotePeer {
  /** `null` until the peer's HELLO arrives. */
  channels: Set<string> | null
  helloTimer: ReturnType<typeof setTimeout> | null
  /** It spoke another protocol version: it has no channel for us, whatever it says later. */
  incompatible: boolean
  /** Ask for its HELLO in ours: it connected before we spoke, and told nobody. */
  replyRequested: boolean
  /** When we last answered its HELLO's request for ours (`Date.now()`), or `null`. */
  answeredAt: number | null
  /** Its HELLO's `features`. */
  features: number
  /** Its page instance, if its HELLO said it (§7): one of our tabs may be the same page. */
  instance: string | null
  /** We closed its connection: nothing more from it counts. */
  disconnected: boolean
  /** Stops listening to its connection's guard. */
  unwatchGuard: () => void
}

export interface PeerDirectoryListener {
  opened: (peerId: string, key: string, stateVector?: Uint8Array) => void
  closed: (peerId: string, key: string) => void
  /** The number of pending peers changed. */
  pendingChanged: () => void
  /** A peer sent no HELLO in time: it now counts as having no channel open. */
  helloTimedOut: (peerId: string) => void
}

export class PeerDirectory {
  private readonly peers = new Map<string, RemotePeer>()

  constructor (private readonly helloTimeoutMs: number, private readonly listener: PeerDirectoryListener) {}

  get (peerId: string): RemotePeer | undefined {
    return this.peers.get(peerId)
  }

  has (peerId: string): boolean {
    return this.peers.has(peerId)
  }

  ids (): string[] {
    return [...this.peers.keys()]
  }

  /** A newly connected peer, pending until its HELLO. */
  add (peerId: string, replyRequested: boolean): RemotePeer {
    const peer: RemotePeer = { channels: null, helloTimer: null, incompatible: false, replyRequested, answeredAt: null, features: 0, instance: null, disconnected: false, unwatchGuard: () => {} }
    this.peers.set(peerId, peer)
    this.awaitHello(peerId, peer)
    return peer
  }

  /** Forgets a peer; its channels close. */
  remove (peerId: string): RemotePeer | undefined {
    const peer = this.peers.get(peerId)
    if (peer === undefined) return undefined
    this.peers.delete(peerId)
    stopTimer(peer)
    if (peer.channels === null) this.listener.pendingChanged()
    else for (const key of peer.channels) this.listener.closed(peerId, key)
    return peer
  }

  /** Pending again (a silent peer came back): its HELLO is awaited anew. */
  awaitHello (peerId: string, peer: RemotePeer): void {
    peer.channels = null
    stopTimer(peer)
    peer.helloTimer = setTimeout(() => this.timedOut(peerId, peer), this.helloTimeoutMs)
    this.listener.pendingChanged()
  }

  /**
   * What the peer has open now; the difference is reported. `stateVectors` (from HELLO or OPEN)
   * go with the channels they name, to whoever opens them.
   */
  setChannels (peerId: string, peer: RemotePeer, channels: Set<string>, stateVectors?: Map<string, Uint8Array>): void {
    const before = peer.channels
    peer.channels = channels
    stopTimer(peer)
    for (const key of before ?? []) if (!channels.has(key)) this.listener.closed(peerId, key)
    for (const key of channels) if (!before?.has(key)) this.listener.opened(peerId, key, stateVectors?.get(key))
    if (before === null) this.listener.pendingChanged()
  }

  pendingCount (): number {
    let pending = 0
    for (const peer of this.peers.values()) if (peer.channels === null) pending++
    return pending
  }

  /** Peers that announced channel `key` open. */
  openPeers (key: string): string[] {
    return [...this.peers].filter(([, peer]) => peer.channels?.has(key) === true).map(([peerId]) => peerId)
  }

  /** Forgets everyone, silently (the room is gone). */
  clear (): void {
    for (const peer of this.peers.values()) stopTimer(peer)
    this.peers.clear()
  }

  private timedOut (peerId: string, peer: RemotePeer): void {
    if (this.peers.get(peerId) !== peer || peer.channels !== null) return
    peer.helloTimer = null
    peer.channels = new Set()
    this.listener.helloTimedOut(peerId)
    this.listener.pendingChanged()
  }
}

const stopTimer = (peer: RemotePeer): void => {
  if (peer.helloTimer !== null) clearTimeout(peer.helloTimer)
  peer.helloTimer = null
}
