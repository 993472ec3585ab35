/**
 * LWW types synced over a Trystero room, the two ways the course module teaches:
 *
 * - state-based (`SyncedLWWRegister`, `SyncedLWWMap`): every write sends the whole state;
 * - delta-based (`DeltaSyncedLWWMap`): a write sends only the entries it changed.
 *
 * Either way a peer that opens the same name gets the whole state once, and what arrives is merged
 * (never forwarded: every peer sends its own writes to every peer). They share a room with
 * `TrysteroProvider` documents: pass `provider.room`, or any room your app joined.
 */
import { channelKey } from '../channel-key.js'
import type { TrysteroRoom } from '../room-types.js'
import { compareStamps, type Stamp } from './clocks.js'
import type { JsonValue } from './json-value.js'
import { LwwChannel, newWriterId, type SyncedLwwOptions } from './lww-channel.js'
import { LWWMap } from './lww-map.js'
import { LWWRegister } from './lww-register.js'

/**
 * An `LWWRegister` kept in sync over a Trystero room (state-based: every write sends the state):
 * `new SyncedLWWRegister(provider.room, 'title')`.
 */
export class SyncedLWWRegister<T extends JsonValue = JsonValue> extends LwwChannel {
  /** The register this replica holds. */
  readonly register: LWWRegister<T>

  constructor (room: TrysteroRoom, name: string, options: SyncedLwwOptions = {}) {
    const register = new LWWRegister<T>(options.writerId ?? newWriterId(), options.clock === undefined ? {} : { clock: options.clock })
    super(room, name, channelKey('lr', name), options)
    this.register = register
  }

  /** Writes and sends the state. A write that loses at once (see `LWWRegister.write`) sends nothing. */
  write (value: T): Stamp {
    const stamp = this.register.write(value)
    if (this.register.stamp !== null && compareStamps(this.register.stamp, stamp) !== 0) return stamp
    this.broadcast('state', this.register.toJSON())
    this.changed([], 'local')
    return stamp
  }

  /** The current value (a copy), or `undefined` if nothing was written yet. */
  read (): T | undefined {
    return this.register.read()
  }

  protected fullState (): unknown {
    return this.register.toJSON()
  }

  protected mergeState (state: unknown): { changed: boolean, keys: string[] } {
    return { changed: this.register.merge(state), keys: [] }
  }
}

/** The map operations both synced maps share; they differ in what a write sends. */
abstract class SyncedMap<T extends JsonValue> extends LwwChannel {
  readonly map: LWWMap<T>

  protected constructor (room: TrysteroRoom, name: string, options: SyncedLwwOptions) {
    const map = new LWWMap<T>(options.writerId ?? newWriterId(), options.clock === undefined ? {} : { clock: options.clock })
    super(room, name, channelKey('lm', name), options)
    this.map = map
  }

  set (key: string, value: T): Stamp {
    return this.written(key, (map) => map.set(key, value))
  }

  delete (key: string): Stamp {
    return this.written(key, (map) => map.delete(key))
  }

  /** A write that loses at once (see `LWWMap`: a wall clock behind) changes nothing: nothing to send. */
  private written (key: string, write: (map: LWWMap<T>) => Stamp): Stamp {
    const since = this.map.version
    const stamp = write(this.map)
    if (this.map.version === since) return stamp
    this.sendWrite(since)
    this.changed([key], 'local')
    return stamp
  }

  get (key: string): T | undefined {
    return this.map.get(key)
  }

  has (key: string): boolean {
    return this.map.has(key)
  }

  keys (): string[] {
    return this.map.keys()
  }

  entries (): Array<[string, T]> {
    return this.map.entries()
  }

  /** Sends what the write made after `version` was `since`. */
  protected abstract sendWrite (since: number): void

  protected fullState (): unknown {
    return this.map.toJSON()
  }

  protected mergeState (state: unknown): { changed: boolean, keys: string[] } {
    const keys = this.map.merge(state)
    return { changed: keys.length > 0, keys }
  }
}

/** State-based: every write sends the whole map. Simple, and costly for big maps. */
export class SyncedLWWMap<T extends JsonValue = JsonValue> extends SyncedMap<T> {
  constructor (room: TrysteroRoom, name: string, options: SyncedLwwOptions = {}) {
    super(room, name, options)
  }

  protected sendWrite (): void {
    this.broadcast('state', this.map.toJSON())
  }
}

/** Delta-based: a write sends only the entries it changed. */
export class DeltaSyncedLWWMap<T extends JsonValue = JsonValue> extends SyncedMap<T> {
  constructor (room: TrysteroRoom, name: string, options: SyncedLwwOptions = {}) {
    super(room, name, options)
  }

  protected sendWrite (since: number): void {
    this.broadcast('delta', this.map.delta(since))
  }
}
