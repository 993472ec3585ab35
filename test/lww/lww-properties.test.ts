/**
 * The CRDT laws, checked on random inputs (fast-check): merge is commutative, associative and
 * idempotent for LWWRegister and LWWMap; and replicas that receive the same messages, in any
 * order and any number of times, end equal.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { HybridLogicalClock, LWWMap, LWWRegister, WallClock, type Clock, type JsonValue } from '../../src/lww/index.js'

const writers = ['A', 'B', 'C']
const keys = ['a', 'b', 'c', 'd']
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
  JSON.stringify(state.entries === undefined ? state : Object.entries(state.entries).sort(([a], [b]) => a.localeCompare(b)))

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

  it('converges on N replicas whatever the delivery order, with duplicates and interleaved writes', () => {
    const deliveryPlan = fc.record({
      ops: fc.array(op, { maxLength: 30 }),
      kind: clockKind,
      // Where each replica's deltas go, in what order, and which get delivered twice.
      order: fc.array(fc.nat(), { maxLength: 200 }),
      duplicates: fc.array(fc.boolean(), { maxLength: 200 })
    })
    fc.assert(fc.property(deliveryPlan, ({ ops, kind, order, duplicates }) => {
      const times = writers.map(() => 0)
      const clock = (i: number): Clock => kind === 'wall' ? new WallClock({ now: () => times[i]! }) : new HybridLogicalClock({ now: () => times[i]! })
      const maps = writers.map((w, i) => new LWWMap(w, { clock: clock(i) }))
      // Every write's delta, addressed to every other replica, in flight.
      const inFlight: Array<{ to: number, delta: unknown }> = []
      const deliver = (index: number): void => {
        const [message] = inFlight.splice(index % inFlight.length, 1)
        maps[message!.to]!.merge(message!.delta)
      }
      let step = 0
      for (const { writer, time, key, value } of ops) {
        // Some messages arrive between writes, in a random order: writes see varying histories.
        while (inFlight.length > 0 && (order[step] ?? 0) % 3 === 0) deliver(order[step++] ?? 0)
        step++
        times[writer] = time
        const since = maps[writer]!.version
        if (value === undefined) maps[writer]!.delete(key)
        else maps[writer]!.set(key, value)
        const delta = maps[writer]!.delta(since)
        writers.forEach((_, to) => {
          if (to === writer) return
          inFlight.push({ to, delta })
          if (duplicates[inFlight.length] === true) inFlight.push({ to, delta })
        })
      }
      while (inFlight.length > 0) deliver(order[step++] ?? 0)
      const states = maps.map((m) => canonical(m.toJSON()))
      expect(new Set(states).size).toBe(1)
    }), { numRuns: 300 })
  })
})
