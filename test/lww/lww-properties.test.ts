/**
 * The CRDT laws, checked on random inputs (fast-check): merge is commutative, associative and
 * idempotent for LWWRegister and LWWMap; and replicas that receive the same messages, in any
 * order and any number of times, end equal.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { HybridLogicalClock, LWWMap, LWWRegister, WallClock, compareStamps, type Clock, type JsonValue } from '../../src/lww/index.js'

const writers = ['A', 'B', 'C']
// Keys that are also Object.prototype names must stay plain keys.
const keys = ['a', 'b', 'c', '__proto__', 'constructor', '']
const jsonValue: fc.Arbitrary<JsonValue> = fc.jsonValue() as fc.Arbitrary<JsonValue>

interface Op { writer: number, time: number, key: string, value: JsonValue | undefined }
const op: fc.Arbitrary<Op> = fc.record({
  writer: fc.integer({ min: 0, max: writers.length - 1 }),
  time: fc.integer({ min: 0, max: 50 }),
  key: fc.constantFrom(...keys),
  // undefined = a delete
  value: fc.option(jsonValue, { nil: undefined })
})
const clockKind = fc.constantFrom<'wall' | 'hlc'>('wall', 'hlc')

/** Each writer's replica applies its own ops, with a clock reading the op's time. */
const replicasFrom = (ops: Op[], kind: 'wall' | 'hlc') => {
  const times = writers.map(() => 0)
  const clock = (i: number): Clock => {
    const now = (): number => times[i]!
    return kind === 'wall' ? new WallClock({ now }) : new HybridLogicalClock({ now })
  }
  const maps = writers.map((w, i) => new LWWMap(w, { clock: clock(i) }))
  const registers = writers.map((w, i) => new LWWRegister(w, { clock: clock(i) }))
  for (const { writer, time, key, value } of ops) {
    times[writer] = time
    if (value === undefined) maps[writer]!.delete(key)
    else maps[writer]!.set(key, value)
    registers[writer]!.write(value ?? null)
  }
  return { maps, registers }
}

/** States compared as JSON with entries in key order (insertion order is each replica's own). */
const canonical = (state: { entries?: Record<string, unknown> }): string =>
  JSON.stringify(state.entries === undefined ? state : Object.entries(state.entries).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))

/** What a map holds, read through its API (not its serialization, which could hide a lost key). */
const holdings = (map: LWWMap): string => JSON.stringify(keys.map((key) => [key, map.entry(key) ?? null]))

const mergedMap = (...states: unknown[]): LWWMap => {
  const map = new LWWMap('merger')
  for (const state of states) map.merge(state)
  return map
}
const mergedRegister = (...states: unknown[]): LWWRegister => {
  const register = new LWWRegister('merger')
  for (const state of states) register.merge(state)
  return register
}

describe('hybrid logical clock (property-based)', () => {
  it('stamps a write after merging larger than every stamp it merged, whatever the physical time', () => {
    const stamp = fc.record({ time: fc.integer({ min: -1000, max: 1e13 }), counter: fc.nat({ max: 1000 }), writer: fc.constantFrom('X', 'Y', 'Z') })
    fc.assert(fc.property(fc.array(stamp, { maxLength: 20 }), fc.integer({ min: 0, max: 1e13 }), (seen, physical) => {
      const clock = new HybridLogicalClock({ now: () => physical })
      for (const s of seen) clock.observe(s)
      const next = clock.next('A')
      for (const s of seen) expect(compareStamps(next, s)).toBeGreaterThan(0)
    }), { numRuns: 500 })
  })
})

describe('LWW merge laws (property-based)', () => {
  it('is commutative, associative and idempotent for LWWMap', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), clockKind, (ops, kind) => {
      const [a, b, c] = replicasFrom(ops, kind).maps.map((m) => m.toJSON())
      expect(canonical(mergedMap(a, b).toJSON())).toBe(canonical(mergedMap(b, a).toJSON()))
      expect(canonical(mergedMap(mergedMap(a, b).toJSON(), c).toJSON())).toBe(canonical(mergedMap(a, mergedMap(b, c).toJSON()).toJSON()))
      expect(canonical(mergedMap(a, a).toJSON())).toBe(canonical(mergedMap(a).toJSON()))
      const once = mergedMap(a, b)
      expect(once.merge(b)).toEqual([])
    }), { numRuns: 300 })
  })

  it('is commutative, associative and idempotent for LWWRegister', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), clockKind, (ops, kind) => {
      const [a, b, c] = replicasFrom(ops, kind).registers.map((r) => r.toJSON())
      expect(mergedRegister(a, b).toJSON()).toEqual(mergedRegister(b, a).toJSON())
      expect(mergedRegister(mergedRegister(a, b).toJSON(), c).toJSON()).toEqual(mergedRegister(a, mergedRegister(b, c).toJSON()).toJSON())
      expect(mergedRegister(a, a).toJSON()).toEqual(mergedRegister(a).toJSON())
      expect(mergedRegister(a, b).merge(b)).toBe(false)
    }), { numRuns: 300 })
  })

  /** Replicas of one type that write, send, and receive in a random order (duplicates included). */
  const deliveryPlan = fc.record({
    ops: fc.array(op, { maxLength: 30 }),
    kind: clockKind,
    order: fc.array(fc.nat(), { maxLength: 200 }),
    duplicates: fc.array(fc.boolean(), { maxLength: 200 })
  })

  interface Replica { write: (op: Op) => unknown, merge: (message: unknown) => unknown, state: () => string }

  const convergesWhateverTheOrder = (makeReplica: (writer: string, clock: Clock) => Replica) =>
    ({ ops, kind, order, duplicates }: { ops: Op[], kind: 'wall' | 'hlc', order: number[], duplicates: boolean[] }): void => {
      const times = writers.map(() => 0)
      const replicas = writers.map((w, i) => makeReplica(w, kind === 'wall' ? new WallClock({ now: () => times[i]! }) : new HybridLogicalClock({ now: () => times[i]! })))
      const inFlight: Array<{ to: number, message: unknown }> = []
      const deliver = (index: number): void => {
        const [m] = inFlight.splice(index % inFlight.length, 1)
        replicas[m!.to]!.merge(m!.message)
      }
      let step = 0
      for (const o of ops) {
        // Some messages arrive between writes, in a random order: writes see varying histories.
        while (inFlight.length > 0 && (order[step] ?? 0) % 3 === 0) deliver(order[step++] ?? 0)
        step++
        times[o.writer] = o.time
        const message = replicas[o.writer]!.write(o)
        writers.forEach((_, to) => {
          if (to === o.writer) return
          inFlight.push({ to, message })
          if (duplicates[inFlight.length] === true) inFlight.push({ to, message })
        })
      }
      while (inFlight.length > 0) deliver(order[step++] ?? 0)
      expect(new Set(replicas.map((r) => r.state())).size).toBe(1)
    }

  it('converges on N LWWMap replicas sending deltas, whatever the delivery order, with duplicates', () => {
    fc.assert(fc.property(deliveryPlan, convergesWhateverTheOrder((writer, clock) => {
      const map = new LWWMap(writer, { clock })
      return {
        write: ({ key, value }) => {
          const since = map.version
          if (value === undefined) map.delete(key)
          else map.set(key, value)
          return map.delta(since)
        },
        merge: (delta) => map.merge(delta),
        state: () => holdings(map)
      }
    })), { numRuns: 300 })
  })

  it('converges on N LWWRegister replicas sending their state, whatever the delivery order, with duplicates', () => {
    fc.assert(fc.property(deliveryPlan, convergesWhateverTheOrder((writer, clock) => {
      const register = new LWWRegister(writer, { clock })
      return {
        write: ({ value }) => { register.write(value ?? null); return register.toJSON() },
        merge: (state) => register.merge(state),
        state: () => JSON.stringify(register.toJSON())
      }
    })), { numRuns: 300 })
  })
})
