/**
 * Answering step 1 (PROTOCOL.md §3.3 step 2) without letting a peer make us hold more than one
 * answer at a time. A step 2 can be the whole document; answering every step 1 at once let 500
 * requests (22 KB on the wire) against a 1 MB document queue 0.5–1 GB of answers in the victim.
 * So at most one answer per peer is on its way; step 1s that arrive meanwhile are coalesced into
 * the latest, which is answered — encoded afresh — once the one on its way is handed over.
 */

export interface Step2AnswerHost {
  /** Encodes and sends the step 2 for `stateVector`; resolves once it is handed to the channel, never rejects. */
  answer: (peerId: string, stateVector: Uint8Array) => Promise<void>
}

interface Answering {
  /** The step 1 to answer once the current answer is out, if any came meanwhile. */
  next: Uint8Array | null
}

export class Step2Answers {
  private readonly answering = new Map<string, Answering>()

  constructor (private readonly host: Step2AnswerHost) {}

  request (peerId: string, stateVector: Uint8Array): void {
    const current = this.answering.get(peerId)
    if (current !== undefined) {
      current.next = stateVector
      return
    }
    const state: Answering = { next: null }
    this.answering.set(peerId, state)
    void this.run(peerId, state, stateVector)
  }

  /** The peer left: a queued request is dropped (an answer on its way finishes on its own). */
  peerGone (peerId: string): void {
    const state = this.answering.get(peerId)
    if (state !== undefined) state.next = null
  }

  private async run (peerId: string, state: Answering, stateVector: Uint8Array): Promise<void> {
    let next: Uint8Array | null = stateVector
    while (next !== null) {
      await this.host.answer(peerId, next)
      next = state.next
      state.next = null
    }
    if (this.answering.get(peerId) === state) this.answering.delete(peerId)
  }
}
