/**
 * Keeps each peer's messages in order around asynchronous steps (PROTOCOL.md §3.7). Compressing a
 * step 2, or inflating one, takes a few event-loop turns; a keystroke sent or received meanwhile
 * must not overtake it. So each peer has a queue: while a step of that peer is in flight, the
 * peer's next steps wait behind it, in order; a peer with nothing in flight runs its step at once,
 * synchronously, as if there were no queue. Other peers never wait for this one.
 */

/** What a step that ran at once returns: one settled promise for all. */
const done = Promise.resolve()

export class PeerOrder {
  /** Per peer: the last step in flight, settled (never rejects) when it is done. */
  private readonly tails = new Map<string, Promise<void>>()

  /** `failed`: a step threw or rejected (the queue goes on with the next). */
  constructor (private readonly failed: (peerId: string, error: unknown) => void) {}

  /** Whether a step of this peer is in flight: a new one would have to wait. */
  busy (peerId: string): boolean {
    return this.tails.has(peerId)
  }

  /** Runs `step` after the peer's steps in flight (at once if none); resolves when it has run. */
  enqueue (peerId: string, step: () => void | Promise<void>): Promise<void> {
    const tail = this.tails.get(peerId)
    if (tail === undefined) {
      let result: void | Promise<void>
      try {
        result = step()
      } catch (error) {
        this.failed(peerId, error)
        return done
      }
      return result instanceof Promise ? this.hold(peerId, result) : done
    }
    return this.hold(peerId, tail.then(step))
  }

  /** The peer's later steps wait until `work` settles (e.g. a big message being handed over). */
  hold (peerId: string, work: Promise<unknown>): Promise<void> {
    const settled = work.then(() => {}, (error: unknown) => this.failed(peerId, error))
    this.tails.set(peerId, settled)
    void settled.then(() => {
      if (this.tails.get(peerId) === settled) this.tails.delete(peerId)
    })
    return settled
  }
}
