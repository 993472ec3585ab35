/**
 * A token bucket: `ratePerSecond` refills it, `burst` is its size. A peer may exceed the rate for
 * as long as the burst lasts; past that the bucket goes into debt, and the debt is the figure a
 * violation reports. Debt (not refusal) keeps a sustained flood "over" until it actually slows.
 */
export class TokenBucket {
  private level: number
  private last: number

  constructor (readonly ratePerSecond: number, readonly burst: number, now: number) {
    this.level = burst
    this.last = now
  }

  /**
   * Takes `amount` at time `now` (ms). Returns by how much the bucket is in debt afterwards
   * (0 when within the rate and burst).
   */
  take (amount: number, now: number): number {
    const elapsed = Math.max(0, now - this.last)
    this.last = now
    this.level = Math.min(this.burst, this.level + (elapsed * this.ratePerSecond) / 1000)
    this.level -= amount
    return this.level < 0 ? -this.level : 0
  }
}
