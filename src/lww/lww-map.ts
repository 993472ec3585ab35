/**
 * A last-writer-wins map: an LWW register per key, where a delete is a write too (a tombstone
 * with its own stamp). So a delete wins over an older set and loses to a newer one, and a
 * deleted key can never come back from a replica that has not heard of the delete.
 *
 * Tombstones are kept forever: forgetting one would let an old set resurface. That is the
 * metadata cost that the comparison with Y.Map (src/compare/) reports.
 */
import { compareStamps, HybridLogicalClock, type Clock, type Stamp } from './clocks.js'
import { assertJsonValue, type JsonValue } from './json-value.js'
import { assertWriterId, type LwwOptions } from './lww-register.js'
import { parseMapState, sameStampConflict, stampToJson, type MapEntryJson, type MapStateJson } from './lww-state.js'
import { TrysteroYjsError } from '../errors.js'

/** One key of an `LWWMap`, as `entry(key)` gives it. */
export interface LwwMapEntry<T> {
  /** The stamp of the write that holds. */
  stamp: Stamp
  /** `null` on a tombstone. */
  value: T | null
  /** The write that holds is a delete. */
  deleted: boolean
}

interface StoredEntry<T> extends LwwMapEntry<T> {
  /** `version` at which this entry last changed here: what `delta(since)` selects on. */
  changedAt: number
}

/** A last-writer-wins map (see the file's comment): replicas converge by merging states or deltas. */
export class LWWMap<T extends JsonValue = JsonValue> {
  /** This replica's id: it breaks ties between equal stamps. */
  readonly writerId: string
  /** The clock that stamps this replica's writes. */
  readonly clock: Clock
  private readonly store = new Map<string, StoredEntry<T>>()
  private changes = 0

  constructor (writerId: string, options: LwwOptions = {}) {
    this.writerId = assertWriterId(writerId)
    this.clock = options.clock ?? new HybridLogicalClock()
  }

  /** Counts changes here (local writes and merged entries): a point to take `delta()` from. */
  get version (): number {
    return this.changes
  }

  /** Sets `key` (a write stamped now); returns its stamp. The value must be JSON. */
  set (key: string, value: T): Stamp {
    assertKey(key)
    assertJsonValue(value, `value of ${JSON.stringify(key)}`)
    return this.put(key, structuredClone(value), false)
  }

  /** Deletes `key`: a write of a tombstone (even if the key was never set here); returns its stamp. */
  delete (key: string): Stamp {
    assertKey(key)
    return this.put(key, null, true)
  }

  /** The value of `key` (a copy), or `undefined` if absent or deleted. */
  get (key: string): T | undefined {
    const entry = this.store.get(key)
    return entry === undefined || entry.deleted ? undefined : structuredClone(entry.value as T)
  }

  /** Whether `key` holds a value (not absent, not deleted). */
  has (key: string): boolean {
    const entry = this.store.get(key)
    return entry !== undefined && !entry.deleted
  }

  /** Visible keys, in no particular order. */
  keys (): string[] {
    return [...this.store].filter(([, entry]) => !entry.deleted).map(([key]) => key)
  }

  /** Visible keys and their values (copies), in no particular order. */
  entries (): Array<[string, T]> {
    return [...this.store].filter(([, entry]) => !entry.deleted).map(([key, entry]) => [key, structuredClone(entry.value as T)])
  }

  /** How many keys hold a value. */
  get size (): number {
    return this.keys().length
  }

  /** Deleted keys still remembered (they must be, to keep beating older sets). */
  get tombstones (): number {
    let count = 0
    for (const entry of this.store.values()) if (entry.deleted) count++
    return count
  }

  /** The entry for `key`, tombstone included: its stamp says which write holds. */
  entry (key: string): LwwMapEntry<T> | undefined {
    const entry = this.store.get(key)
    return entry === undefined ? undefined : { stamp: entry.stamp, value: structuredClone(entry.value), deleted: entry.deleted }
  }

  /**
   * Merges a state or a delta from another replica; returns the keys whose entry changed.
   * Throws, changing nothing, if it is not a valid map state.
   */
  merge (state: unknown): string[] {
    const incoming = parseMapState<T>(state)
    // Checked whole first, like the format: nothing is merged from a state that is refused.
    for (const [key, entry] of incoming) {
      const current = this.store.get(key)
      if (current === undefined || compareStamps(entry.stamp, current.stamp) !== 0) continue
      const conflict = sameStampConflict(entry.stamp, [current.deleted, current.value], [entry.deleted, entry.value], `LWWMap key ${JSON.stringify(key)}`)
      if (conflict !== null) throw conflict
    }
    const changed: string[] = []
    for (const [key, entry] of incoming) {
      this.clock.observe(entry.stamp)
      const current = this.store.get(key)
      if (current !== undefined && compareStamps(entry.stamp, current.stamp) <= 0) continue
      // A copy: the caller keeps its object, and may change it.
      this.store.set(key, { ...entry, value: structuredClone(entry.value), changedAt: ++this.changes })
      changed.push(key)
    }
    return changed
  }

  /** The whole state, tombstones included, to send to another replica's `merge()`. */
  toJSON (): MapStateJson<T> {
    return this.delta(-1)
  }

  /** The entries that changed here after `version` was `since`: what a delta sync sends. */
  delta (since: number): MapStateJson<T> {
    // fromEntries defines own properties: a key named "__proto__" stays a key.
    const entries: Record<string, MapEntryJson<T>> = Object.fromEntries([...this.store]
      .filter(([, entry]) => entry.changedAt > since)
      .map(([key, entry]) => [key, entry.deleted
        ? { stamp: stampToJson(entry.stamp), deleted: true as const }
        : { stamp: stampToJson(entry.stamp), value: structuredClone(entry.value as T) }]))
    return { type: 'lww-map', format: 1, entries }
  }

  /** A map for `writerId` that starts from a state another replica sent. */
  static fromJSON<T extends JsonValue = JsonValue> (state: unknown, writerId: string, options: LwwOptions = {}): LWWMap<T> {
    const map = new LWWMap<T>(writerId, options)
    map.merge(state)
    return map
  }

  /** Like a merge: a local write whose stamp loses to the entry here (a `WallClock` behind) is lost. */
  private put (key: string, value: T | null, deleted: boolean): Stamp {
    const stamp = this.clock.next(this.writerId)
    const current = this.store.get(key)
    if (current === undefined || compareStamps(stamp, current.stamp) > 0) this.store.set(key, { stamp, value, deleted, changedAt: ++this.changes })
    return stamp
  }
}

const assertKey = (key: unknown): void => {
  if (typeof key !== 'string') throw new TrysteroYjsError(`an LWWMap key must be a string, got ${typeof key}`)
}
