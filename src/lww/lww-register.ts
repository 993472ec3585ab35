/**
 * A last-writer-wins register: one value, and the stamp of the write that set it. Merging keeps
 * the write with the larger stamp, so merge is commutative, associative and idempotent, and every
 * replica that has seen the same writes holds the same value.
 */
import { TrysteroYjsError } from '../errors.js'
import { HybridLogicalClock, compareStamps, type Clock, type Stamp } from './clocks.js'
import { assertJsonValue, type JsonValue } from './json-value.js'
import { parseRegisterState, sameStampConflict, stampToJson, type RegisterStateJson } from './lww-state.js'

/** Options of `LWWRegister` and `LWWMap`. */
export interface LwwOptions {
  /** Default: a `HybridLogicalClock` on `Date.now`. */
  clock?: Clock
}

export const assertWriterId = (writerId: unknown): string => {
  if (typeof writerId !== 'string' || writerId.length === 0) throw new TrysteroYjsError('an LWW writer id must be a non-empty string, unique per replica')
  return writerId
}

/**
 * A last-writer-wins register: one JSON value, the write with the highest stamp wins. Replicas
 * converge by exchanging their state (`toJSON()` → `merge()`).
 */
export class LWWRegister<T extends JsonValue = JsonValue> {
  /** This replica's id: it breaks ties between equal stamps. */
  readonly writerId: string
  /** The clock that stamps this replica's writes. */
  readonly clock: Clock
  private entry: { stamp: Stamp, value: T } | null = null

  constructor (writerId: string, options: LwwOptions = {}) {
    this.writerId = assertWriterId(writerId)
    this.clock = options.clock ?? new HybridLogicalClock()
  }

  /**
   * Writes the value, stamped now; returns the stamp. With a clock that does not follow the
   * stamps it has seen (`WallClock`), the write can lose at once to a value already merged here:
   * the register then keeps that value, as every other replica will.
   */
  write (value: T): Stamp {
    assertJsonValue(value)
    const stamp = this.clock.next(this.writerId)
    if (this.entry === null || compareStamps(stamp, this.entry.stamp) > 0) this.entry = { stamp, value: structuredClone(value) }
    return stamp
  }

  /** The current value (a copy), or `undefined` if nothing was written yet. */
  read (): T | undefined {
    return this.entry === null ? undefined : structuredClone(this.entry.value)
  }

  /** The stamp of the write that holds, or `null` before any write. */
  get stamp (): Stamp | null {
    return this.entry?.stamp ?? null
  }

  /**
   * Merges another replica's state (`toJSON()` output); returns whether the value changed.
   * Throws, changing nothing, if `state` is not a valid register state.
   */
  merge (state: unknown): boolean {
    const incoming = parseRegisterState<T>(state)
    if (incoming === null) return false
    const order = this.entry === null ? 1 : compareStamps(incoming.stamp, this.entry.stamp)
    if (order === 0) {
      const conflict = sameStampConflict(incoming.stamp, this.entry!.value, incoming.value, 'LWWRegister')
      if (conflict !== null) throw conflict
    }
    this.clock.observe(incoming.stamp)
    if (order <= 0) return false
    // A copy: the caller keeps its object, and may change it.
    this.entry = { stamp: incoming.stamp, value: structuredClone(incoming.value) }
    return true
  }

  /** The whole state, to send to another replica's `merge()`. */
  toJSON (): RegisterStateJson<T> {
    return {
      type: 'lww-register',
      format: 1,
      entry: this.entry === null ? null : { stamp: stampToJson(this.entry.stamp), value: structuredClone(this.entry.value) }
    }
  }

  /** A register for `writerId` that starts from a state another replica sent. */
  static fromJSON<T extends JsonValue = JsonValue> (state: unknown, writerId: string, options: LwwOptions = {}): LWWRegister<T> {
    const register = new LWWRegister<T>(writerId, options)
    register.merge(state)
    return register
  }
}
