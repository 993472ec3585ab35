/**
 * Answering step 1 (PROTOCOL.md §3.3 step 2) without letting a peer make us hold more than one
 * answer at a time, nor spend more than a tenth of our time answering it. A step 2 can be the
 * whole document; answering every step 1 at once let 500 requests (22 KB on the wire) against a
 * 1 MB document queue 0.5–1 GB of answers in the victim. So at most one answer per peer is on its
 * way; step 1s that arrive meanwhile are coalesced into the latest, which is answered — encoded
 * afresh — once the one on its way is handed over.
 *
 * One in flight still let a peer keep us encoding as fast as the channel drains: a state vector
 * the whole-state snapshot cannot serve (a made-up client in it) costs a full encoding each time;
 * an empty one, served from the snapshot, costs no encoding but the whole document on our uplink
 * each time (B4: 70 KB for a request of about a hundred bytes). So the next answer to a peer
 * waits until `spacing` times the last one's whole cost — its encoding, on our thread, and its
 * handing over, which waits on the channel while the link drains — has passed since that one was
 * handed over: a peer asking again and again gets at most about a tenth of our time and of our
 * link to it. An honest peer asks once when it joins, and again only on a reconnect or a resync:
 * it never waits.
 */

/**
 * The longest an answer waits for the last one's spacing: 30 s. An answer that took seconds (a
 * large state on a slow link, or a send that stalled) must not keep a peer's next request — a
 * reconnect, or its re-ask after `syncTimeout` — waiting for minutes.
 */
export const maxSpacingMs = 30_000

export interface Step2AnswerHost {
  /** Encodes and sends the step 2 for `stateVector`; resolves once it is handed to the channel, never rejects. */
  answer: (peerId: string, stateVector: Uint8Array) => Promise<void>
}

export interface Step2AnswerOptions {
  /** The next answer to a peer waits this many times the last one's encoding. Default 10 (≤ 10% of our time per peer). */
  spacing?: number
  now?: () => number
}

interface Answering {
  /** The step 1 to answer once the current answer is out, if any came meanwhile. */
  next: Uint8Array | null
  /** The peer left: nothing more is answered. */
  gone: boolean
}

/** The last answer to a peer: what it took from the request to its handing over, and when that was. */
interface Spent {
  costMs: number
  endedAt: number
}

export class Step2Answers {
  private readonly answering = new Map<string, Answering>()
  private readonly spent = new Map<string, Spent>()
  private readonly spacing: number
  private readonly now: () => number

  constructor (private readonly host: Step2AnswerHost, options: Step2AnswerOptions = {}) {
    this.spacing = options.spacing ?? 10
    this.now = options.now ?? (() => performance.now())
  }

  request (peerId: string, stateVector: Uint8Array): void {
    const current = this.answering.get(peerId)
    if (current !== undefined) {
      // Also an answer to a peer that closed the document and opened it again: still the one.
      current.next = stateVector
      current.gone = false
      return
    }
    const state: Answering = { next: null, gone: false }
    this.answering.set(peerId, state)
    void this.run(peerId, state, stateVector)
  }

  /**
   * The peer closed the document: a queued request is dropped (an answer on its way finishes on
   * its own). `left`: it left the room too, and a new connection starts afresh. A peer still
   * connected may open the document again: reopening costs it two small messages (CLOSE, OPEN
   * with an empty state vector) and asks for the whole document, so it is answered as a peer
   * that asks again — after the answer on its way, and spaced — not as a new one.
   */
  peerGone (peerId: string, left = true): void {
    const state = this.answering.get(peerId)
    if (state !== undefined) {
      state.next = null
      state.gone = true
      if (left) this.answering.delete(peerId)
    }
    if (left) this.spent.delete(peerId)
    this.prune()
  }

  private async run (peerId: string, state: Answering, stateVector: Uint8Array): Promise<void> {
    let next: Uint8Array | null = stateVector
    while (next !== null) {
      // In the caller's turn when nothing holds it back: the answer goes before what is sent next.
      const waitMs = this.waitFor(peerId)
      if (waitMs > 0) await sleep(waitMs)
      if (state.gone) break
      // Coalesced while we waited: the latest request is the one answered.
      next = state.next ?? next
      state.next = null
      const start = this.now()
      await this.host.answer(peerId, next)
      const endedAt = this.now()
      if (this.answering.get(peerId) === state) this.spent.set(peerId, { costMs: endedAt - start, endedAt })
      next = state.next
      state.next = null
    }
    if (this.answering.get(peerId) === state) this.answering.delete(peerId)
  }

  /** Forgets the spacing of peers with nothing on its way whose next answer would be due now: a peer that closed the document and went is not kept. */
  private prune (): void {
    for (const peerId of [...this.spent.keys()]) if (!this.answering.has(peerId) && this.waitFor(peerId) <= 0) this.spent.delete(peerId)
  }

  /** How long the peer's next answer must wait (0 for a first answer, or one far enough behind). */
  private waitFor (peerId: string): number {
    const last = this.spent.get(peerId)
    return last === undefined ? 0 : last.endedAt + Math.min(this.spacing * last.costMs, maxSpacingMs) - this.now()
  }
}

const sleep = async (ms: number): Promise<void> => await new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms)
  // A deferred answer must not keep a Node process alive on its own.
  ;(timer as { unref?: () => void }).unref?.()
})
