/**
 * The JSON form of LWW states (PROTOCOL.md §4) and its validation: a state from another replica
 * is checked whole before anything of it is merged.
 */
import { TrysteroYjsError } from '../errors.js'
import type { Stamp } from './clocks.js'
import { assertJsonValue, type JsonValue } from './json-value.js'

/** `[time, counter, writer]` */
export type StampJson = [number, number, string]

/** An `LWWRegister`'s state on the wire (`toJSON()`). */
export interface RegisterStateJson<T extends JsonValue = JsonValue> {
  /** What this state is of. */
  type: 'lww-register'
  /** The version of this format. */
  format: 1
  /** The write that holds, or `null` before any write. */
  entry: { stamp: StampJson, value: T } | null
}

/** One key of an `LWWMap` state on the wire. */
export interface MapEntryJson<T extends JsonValue = JsonValue> {
  /** The stamp of the write that holds. */
  stamp: StampJson
  /** Absent on a tombstone. */
  value?: T
  /** A tombstone: the key was deleted at `stamp`. */
  deleted?: true
}

/** An `LWWMap`'s state or delta on the wire (`toJSON()`, `delta()`). */
export interface MapStateJson<T extends JsonValue = JsonValue> {
  /** What this state is of. */
  type: 'lww-map'
  /** The version of this format. */
  format: 1
  /** The entries, by key (a delta has only those that changed). */
  entries: Record<string, MapEntryJson<T>>
}

export const stampToJson = (stamp: Stamp): StampJson => [stamp.time, stamp.counter, stamp.writer]

/**
 * Two different values under one stamp: two replicas share a writer id (it must be unique per
 * replica), and they would silently diverge. Found when merging, reported rather than merged.
 */
export const sameStampConflict = (stamp: Stamp, mine: unknown, theirs: unknown, what: string): TrysteroYjsError | null =>
  JSON.stringify(mine) === JSON.stringify(theirs)
    ? null
    : new TrysteroYjsError(`${what}: two different writes share the stamp [${stamp.time}, ${stamp.counter}, ${JSON.stringify(stamp.writer)}]; writer ids must be unique per replica`)

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const invalid = (what: string, problem: string): TrysteroYjsError =>
  new TrysteroYjsError(`not a valid ${what} state: ${problem}`)

export const parseStamp = (json: unknown, what: string): Stamp => {
  if (!Array.isArray(json) || json.length !== 3) throw invalid(what, `stamp ${JSON.stringify(json)} is not [time, counter, writer]`)
  const [time, counter, writer] = json as unknown[]
  if (typeof time !== 'number' || !Number.isFinite(time)) throw invalid(what, `stamp time ${String(time)} is not a finite number`)
  if (typeof counter !== 'number' || !Number.isInteger(counter) || counter < 0) throw invalid(what, `stamp counter ${String(counter)} is not a natural number`)
  if (typeof writer !== 'string' || writer.length === 0) throw invalid(what, 'stamp writer is not a non-empty string')
  return { time, counter, writer }
}

const checkHeader = (json: unknown, type: string, what: string): Record<string, unknown> => {
  if (!isObject(json)) throw invalid(what, `expected an object, got ${json === null ? 'null' : typeof json}`)
  if (json['type'] !== type) throw invalid(what, `type is ${JSON.stringify(json['type'])}, expected "${type}"`)
  if (json['format'] !== 1) throw invalid(what, `format ${JSON.stringify(json['format'])} is not supported (this reads 1)`)
  return json
}

export const parseRegisterState = <T extends JsonValue>(json: unknown): { stamp: Stamp, value: T } | null => {
  const state = checkHeader(json, 'lww-register', 'LWWRegister')
  const entry = state['entry']
  if (entry === null) return null
  if (!isObject(entry)) throw invalid('LWWRegister', 'entry is neither null nor an object')
  const stamp = parseStamp(entry['stamp'], 'LWWRegister')
  if (!('value' in entry)) throw invalid('LWWRegister', 'entry has no value')
  assertJsonValue(entry['value'], 'LWWRegister value')
  return { stamp, value: entry['value'] as T }
}

export interface ParsedMapEntry<T> {
  stamp: Stamp
  value: T | null
  deleted: boolean
}

export const parseMapState = <T extends JsonValue>(json: unknown): Map<string, ParsedMapEntry<T>> => {
  const state = checkHeader(json, 'lww-map', 'LWWMap')
  const entries = state['entries']
  if (!isObject(entries)) throw invalid('LWWMap', 'entries is not an object')
  const parsed = new Map<string, ParsedMapEntry<T>>()
  for (const [key, entry] of Object.entries(entries)) {
    if (!isObject(entry)) throw invalid('LWWMap', `entry ${JSON.stringify(key)} is not an object`)
    const stamp = parseStamp(entry['stamp'], 'LWWMap')
    const deleted = entry['deleted'] === true
    if (!deleted && !('value' in entry)) throw invalid('LWWMap', `entry ${JSON.stringify(key)} has neither a value nor deleted: true`)
    if (!deleted) assertJsonValue(entry['value'], `LWWMap value of ${JSON.stringify(key)}`)
    parsed.set(key, { stamp, value: deleted ? null : entry['value'] as T, deleted })
  }
  return parsed
}
