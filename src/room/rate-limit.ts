/**
 * What one peer may send us per second (PROTOCOL.md §6): a token bucket for messages and one for
 * bytes, refilled continuously, each holding up to a burst. A peer over either is disconnected by
 * the caller; honest peers stay far below (a keystroke is one message; a whole document in a step 2
 * fits in the byte burst).
 */

export interface RateLimits {
  /** Messages per second, sustained; the burst is twice that. */
  maxMessagesPerSecond: number
  /** Bytes per second, sustained; the burst is `burstBytes`. */
  maxBytesPerSecond: number
  burstBytes: number
}

export interface RateExcess {
  limit: 'maxMessagesPerSecond' | 'maxBytesPerSecond'
  value: number
  /** The rate the peer reached, over the time it took to empty the bucket. */
  figure: number
}

interface Bucket {
  messages: number
  bytes: number
  updatedAt: number
  /** Since when it has been counted, and how much, for the figure in a report. */
  since: number
  countedMessages: number
  countedBytes: number
}

export class PeerRates {
  private readonly buckets = new Map<string, Bucket>()

  constructor (private readonly limits: RateLimits, private readonly now: () => number = Date.now) {}

  /**
   * Counts one message from `peerId` (or `messages` of them: 0 for bytes a message makes us
   * process beyond its own, such as a compact message's inflated update); returns what it
   * exceeded, if anything.
   */
  count (peerId: string, byteLength: number, messages = 1): RateExcess | null {
    const { maxMessagesPerSecond, maxBytesPerSecond, burstBytes } = this.limits
    const now = this.now()
    let bucket = this.buckets.get(peerId)
    if (bucket === undefined) {
      bucket = { messages: 2 * maxMessagesPerSecond, bytes: burstBytes, updatedAt: now, since: now, countedMessages: 0, countedBytes: 0 }
      this.buckets.set(peerId, bucket)
    }
    const seconds = (now - bucket.updatedAt) / 1000
    bucket.messages = Math.min(2 * maxMessagesPerSecond, bucket.messages + seconds * maxMessagesPerSecond)
    bucket.bytes = Math.min(burstBytes, bucket.bytes + seconds * maxBytesPerSecond)
    bucket.updatedAt = now
    bucket.messages -= messages
    bucket.bytes -= byteLength
    bucket.countedMessages += messages
    bucket.countedBytes += byteLength
    const elapsed = Math.max(0.001, (now - bucket.since) / 1000)
    if (bucket.messages < 0) return { limit: 'maxMessagesPerSecond', value: maxMessagesPerSecond, figure: Math.round(bucket.countedMessages / elapsed) }
    if (bucket.bytes < 0) return { limit: 'maxBytesPerSecond', value: maxBytesPerSecond, figure: Math.round(bucket.countedBytes / elapsed) }
    return null
  }

  forget (peerId: string): void {
    this.buckets.delete(peerId)
  }
}
