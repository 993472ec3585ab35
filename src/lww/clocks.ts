import { TrysteroYjsError } from '../errors.js'

/**
 * Clocks that stamp LWW writes. The stamp decides every conflict: the larger one wins, and a tie
 * (same time and counter) is broken by the writer's id, so every replica picks the same winner.
 *
 * - `HybridLogicalClock` (the default): physical time, but never behind any stamp it has seen.
 *   A write made after receiving another always gets the larger stamp: causality is respected.
 * - `WallClock`: physical time only, with an injectable skew. It never looks at stamps it
 *   receives, which is the classic LWW failure: a replica whose clock runs fast wins every
 *   conflict, even against writes made after seeing its own.
 */

/** When and by whom a write was made. Compared by time, then counter, then writer. */
export interface Stamp {
  /** Milliseconds, as the writer's clock saw them. */
  time: number
  /** Orders writes within one millisecond. */
  counter: number
  /** The writer's id: the tie-breaker. */
  writer: string
}

/** Stamps local writes and hears of remote ones: `HybridLogicalClock` or `WallClock`. */
export interface Clock {
  /** `'hlc'` or `'wall'`, for reports. */
  readonly kind: string
  /** The stamp for a new local write. */
  next: (writer: string) => Stamp
  /** Told of every stamp merged from another replica. */
  observe: (stamp: Stamp) => void
}

/** Negative if `a` loses to `b`, positive if it wins, 0 if they are the same write. */
export const compareStamps = (a: Stamp, b: Stamp): number =>
  a.time - b.time || a.counter - b.counter || (a.writer < b.writer ? -1 : a.writer > b.writer ? 1 : 0)

/** A stamp travels as JSON: a non-finite time would reach other replicas as `null`. */
const finiteTime = (time: number, what: string): number => {
  if (!Number.isFinite(time)) throw new TrysteroYjsError(`${what} is ${time}: clocks work in finite milliseconds`)
  return time
}

/** Options of every clock. */
export interface ClockOptions {
  /** Physical time in ms. Default `Date.now`; simulations pass a virtual clock. */
  now?: () => number
}

/**
 * Note for the lesson: a hybrid logical clock trusts the stamps it receives. One replica whose
 * clock is far ahead drags every clock it reaches that far ahead (production systems bound the
 * drift they accept; this teaching clock does not).
 */
export class HybridLogicalClock implements Clock {
  readonly kind = 'hlc'
  private time = -Infinity
  private counter = 0
  private readonly now: () => number

  constructor (options: ClockOptions = {}) {
    this.now = options.now ?? Date.now
  }

  next (writer: string): Stamp {
    const physical = finiteTime(this.now(), 'HybridLogicalClock now()')
    if (physical > this.time) {
      this.time = physical
      this.counter = 0
    } else {
      this.counter++
    }
    return { time: this.time, counter: this.counter, writer }
  }

  observe (stamp: Stamp): void {
    if (stamp.time > this.time || (stamp.time === this.time && stamp.counter > this.counter)) {
      this.time = stamp.time
      this.counter = stamp.counter
    }
  }
}

/** Options of `WallClock`. */
export interface WallClockOptions extends ClockOptions {
  /** Added to physical time: this replica's clock runs that many ms fast (or slow if negative). */
  skewMs?: number
}

/**
 * Stamps writes with physical time only (plus `skewMs`), as naive last-writer-wins does: a replica
 * whose clock runs fast wins over writes made after its own. Here to show that failure.
 */
export class WallClock implements Clock {
  readonly kind = 'wall'
  /** How far this replica's clock is off, in ms. */
  readonly skewMs: number
  private lastTime = -Infinity
  private counter = 0
  private readonly now: () => number

  constructor (options: WallClockOptions = {}) {
    this.now = options.now ?? Date.now
    this.skewMs = finiteTime(options.skewMs ?? 0, 'WallClock skewMs')
  }

  next (writer: string): Stamp {
    // Monotonic for its own writes (two in one ms, or the clock stepping back, must not make a
    // replica's later write lose to its earlier one), but blind to everyone else's stamps.
    const time = Math.max(finiteTime(this.now(), 'WallClock now()') + this.skewMs, this.lastTime)
    this.counter = time === this.lastTime ? this.counter + 1 : 0
    this.lastTime = time
    return { time, counter: this.counter, writer }
  }

  observe (): void {}
}
