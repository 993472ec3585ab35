/**
 * Who in the room is still there (PROTOCOL.md §2.3). Trystero notices a crashed peer after
 * ~30 s in Node and ~12 s in Chromium; a peer that went silent here is reported within
 * `timeoutMs`, and brought back the moment it is heard from again.
 *
 * Anything heard from a peer counts: a message or a chunk of one on any of our actions (so a
 * 50 MB transfer is not taken for a death), a PONG, or bytes its connection received (the far
 * end's SCTP acknowledgements of what we send, its ICE consent answers: its network stack is
 * alive even while it sends us nothing, e.g. while we type and it only reads). We send PING only
 * to a peer we have not heard from for `intervalMs` whose connection received nothing either, and a peer answers PING when it receives it — never from a timer
 * of its own, so that a background tab (whose timers a browser throttles to once a minute, while
 * it still delivers data channel messages) stays alive. A peer we are still sending to (a big
 * step 2 queued ahead of our PING) is not judged, for up to `5 × timeoutMs` from the oldest send
 * not yet handed over (a send to a stopped peer stays stuck). When our own timer fires late (we
 * were suspended: a stopped process, a throttled tab), nobody is judged on that turn: what the
 * others sent meanwhile is still waiting to be read.
 */

export interface LivenessOptions {
  /** How long a peer may be silent before we ask (PING). */
  intervalMs: number
  /** How long a peer may be silent before it is taken for gone. */
  timeoutMs: number
}

/**
 * A crashed peer is gone from `peers` (its cursor too) within about 6 s, against Trystero's
 * ~30 s in Node; an idle peer costs a PING and a PONG every 1.5 s each way.
 */
export const defaultHeartbeat: LivenessOptions = { intervalMs: 1500, timeoutMs: 6000 }

export interface LivenessHost {
  ping: (peerId: string) => void
  /**
   * The bytes the peer's connection has received in all (`getStats()`'s transport
   * `bytesReceived`), or `null` where the connection cannot tell.
   */
  bytesReceived?: (peerId: string) => Promise<number | null>
  /** The peer has been silent for `silentMs`: treat it as gone, until `revived`. */
  silent: (peerId: string, silentMs: number) => void
  /** A peer taken for gone was heard from again. */
  revived: (peerId: string) => void
}

interface Watched {
  lastHeard: number
  lastPing: number
  /** Start times of the sends to this peer not yet handed to its data channel, oldest first. */
  sending: number[]
  silent: boolean
  /** The connection's received bytes at the last look, and whether a look is under way. */
  bytesReceived: number | null
  probing: boolean
}

export class Liveness {
  private readonly peers = new Map<string, Watched>()
  private timer: ReturnType<typeof setInterval> | null = null
  private lastTick = 0

  constructor (readonly options: LivenessOptions, private readonly host: LivenessHost, private readonly now: () => number = Date.now) {}

  /** Starts watching a peer (it answers PING). */
  watch (peerId: string): void {
    const now = this.now()
    this.peers.set(peerId, { lastHeard: now, lastPing: now, sending: [], silent: false, bytesReceived: null, probing: false })
    if (this.timer === null) {
      this.lastTick = now
      this.timer = setInterval(() => this.tick(), Math.max(50, Math.min(this.options.intervalMs, this.options.timeoutMs / 4)))
      // A heartbeat must not keep a Node process alive on its own.
      ;(this.timer as { unref?: () => void }).unref?.()
    }
  }

  unwatch (peerId: string): void {
    this.peers.delete(peerId)
    if (this.peers.size === 0) this.stop()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.peers.clear()
  }

  isSilent (peerId: string): boolean {
    return this.peers.get(peerId)?.silent === true
  }

  /** When we last heard from a peer (any peer, watched or not), or `null`. */
  lastHeard (peerId: string): number | null {
    return this.peers.get(peerId)?.lastHeard ?? null
  }

  heard (peerId: string): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined) return
    peer.lastHeard = this.now()
    if (!peer.silent) return
    peer.silent = false
    this.host.revived(peerId)
  }

  /** A send to `peerId` started (`+1`) or was handed to the channel (`-1`). */
  sending (peerId: string, delta: 1 | -1): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined) return
    if (delta === 1) peer.sending.push(this.now())
    else peer.sending.shift()
  }

  /** A PING costs a message each way: not if the connection shows the peer is there anyway. */
  private async pingUnlessReceiving (peerId: string, peer: Watched): Promise<void> {
    if (this.host.bytesReceived === undefined || peer.probing || peer.silent) {
      this.host.ping(peerId)
      return
    }
    peer.probing = true
    const received = await this.host.bytesReceived(peerId).catch(() => null)
    peer.probing = false
    if (this.peers.get(peerId) !== peer) return
    const before = peer.bytesReceived
    peer.bytesReceived = received
    if (received !== null && before !== null && received > before) this.heard(peerId)
    else this.host.ping(peerId)
  }

  private tick (): void {
    const now = this.now()
    const late = now - this.lastTick > this.options.timeoutMs
    this.lastTick = now
    const busyFor = 5 * this.options.timeoutMs
    for (const [peerId, peer] of [...this.peers]) {
      const oldestSend = peer.sending[0]
      if (late || (oldestSend !== undefined && now - oldestSend < busyFor)) {
        // We could not have heard it, or it is busy reading what we send: judge it next turn.
        peer.lastHeard = Math.max(peer.lastHeard, now - this.options.intervalMs)
        continue
      }
      const silence = now - peer.lastHeard
      if (silence >= this.options.intervalMs && now - peer.lastPing >= this.options.intervalMs) {
        peer.lastPing = now
        void this.pingUnlessReceiving(peerId, peer)
      }
      if (silence >= this.options.timeoutMs && !peer.silent) {
        peer.silent = true
        this.host.silent(peerId, silence)
      }
    }
  }
}
