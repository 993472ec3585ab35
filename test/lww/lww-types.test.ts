/** LWWRegister and LWWMap: what a write, a delete and a merge do, and what they refuse. */
import { describe, expect, it } from 'vitest'
import { HybridLogicalClock, LWWMap, LWWRegister, WallClock, compareStamps } from '../../src/lww/index.js'
import { TrysteroYjsError } from '../../src/index.js'

/** A clock reading a variable we move by hand. */
const manualTime = () => {
  const time = { now: 0 }
  return { time, now: () => time.now }
}

describe('LWWRegister', () => {
  it('reads what was written last, and a merge keeps the larger stamp', () => {
    const { time, now } = manualTime()
    const a = new LWWRegister<string>('A', { clock: new WallClock({ now }) })
    const b = new LWWRegister<string>('B', { clock: new WallClock({ now }) })
    expect(a.read()).toBeUndefined()
    time.now = 10
    a.write('a at 10')
    time.now = 20
    b.write('b at 20')
    expect(a.merge(b.toJSON())).toBe(true)
    expect(b.merge(a.toJSON())).toBe(false)
    expect([a.read(), b.read()]).toEqual(['b at 20', 'b at 20'])
  })

  it('breaks a tie of time and counter on the writer id, the same way everywhere', () => {
    const a = new LWWRegister('A', { clock: new WallClock({ now: () => 5 }) })
    const b = new LWWRegister('B', { clock: new WallClock({ now: () => 5 }) })
    a.write('from A')
    b.write('from B')
    a.merge(b.toJSON())
    b.merge(a.toJSON())
    expect([a.read(), b.read()]).toEqual(['from B', 'from B'])
  })

  it('returns copies: changing a read value does not change the register', () => {
    const r = new LWWRegister<{ n: number }>('A')
    r.write({ n: 1 })
    r.read()!.n = 2
    expect(r.read()).toEqual({ n: 1 })
  })

  it('round-trips through toJSON/fromJSON', () => {
    const r = new LWWRegister<number[]>('A')
    r.write([1, 2, 3])
    const copy = LWWRegister.fromJSON<number[]>(JSON.parse(JSON.stringify(r.toJSON())), 'B')
    expect(copy.read()).toEqual([1, 2, 3])
    expect(copy.stamp).toEqual(r.stamp)
  })

  it('refuses values that are not JSON, naming where', () => {
    const r = new LWWRegister<any>('A')
    expect(() => r.write(undefined)).toThrow(/value is undefined/)
    expect(() => r.write({ when: new Date() })).toThrow(/value.when is a Date/)
    expect(() => r.write([1, NaN])).toThrow(/value\[1\] is NaN/)
    expect(() => r.write({ f: () => 1 })).toThrow(/value.f is a function/)
    const cycle: Record<string, unknown> = {}
    cycle['self'] = cycle
    expect(() => r.write(cycle)).toThrow(/cycle/)
    expect(r.read()).toBeUndefined()
  })

  it('refuses states that are not its own, changing nothing', () => {
    const r = new LWWRegister<string>('A')
    r.write('kept')
    const bad: unknown[] = [
      null, 42, 'x', { type: 'lww-map', format: 1, entries: {} }, { type: 'lww-register', format: 2, entry: null },
      { type: 'lww-register', format: 1, entry: { stamp: [1, 0], value: 'v' } },
      { type: 'lww-register', format: 1, entry: { stamp: [1e15, -1, 'Z'], value: 'v' } },
      { type: 'lww-register', format: 1, entry: { stamp: [1e15, 0, ''], value: 'v' } },
      { type: 'lww-register', format: 1, entry: { stamp: [1e15, 0, 'Z'] } }
    ]
    for (const state of bad) {
      expect(() => r.merge(state), JSON.stringify(state)).toThrow(TrysteroYjsError)
      expect(r.read()).toBe('kept')
    }
    expect(() => r.merge({ type: 'lww-map', format: 1, entries: {} })).toThrow(/not a valid LWWRegister state: type is "lww-map"/)
  })

  it('refuses an empty writer id', () => {
    expect(() => new LWWRegister('')).toThrow(/writer id/)
  })
})

describe('LWWMap', () => {
  it('sets, gets, deletes, and lists visible keys', () => {
    const m = new LWWMap<number>('A')
    m.set('a', 1)
    m.set('b', 2)
    const stamp = m.delete('a')
    expect(m.entry('a')).toEqual({ stamp, value: null, deleted: true })
    m.delete('never')
    expect(m.get('a')).toBeUndefined()
    expect(m.has('b')).toBe(true)
    expect(m.keys()).toEqual(['b'])
    expect(m.entries()).toEqual([['b', 2]])
    expect(m.size).toBe(1)
    expect(m.tombstones).toBe(2)
  })

  it('lets a delete win over an older set and lose to a newer one', () => {
    const { time, now } = manualTime()
    const a = new LWWMap<string>('A', { clock: new WallClock({ now }) })
    const b = new LWWMap<string>('B', { clock: new WallClock({ now }) })
    time.now = 10
    a.set('k', 'old set')
    time.now = 20
    b.delete('k')
    a.merge(b.toJSON())
    expect(a.has('k')).toBe(false)
    time.now = 30
    a.set('k', 'newer set')
    b.merge(a.toJSON())
    expect(b.get('k')).toBe('newer set')
  })

  it('keeps a tombstone so that a replica that missed the delete cannot bring the key back', () => {
    const { time, now } = manualTime()
    const a = new LWWMap<string>('A', { clock: new WallClock({ now }) })
    const stale = new LWWMap<string>('C', { clock: new WallClock({ now }) })
    time.now = 1
    a.set('k', 'v')
    stale.merge(a.toJSON())
    time.now = 2
    a.delete('k')
    a.merge(stale.toJSON())
    expect(a.has('k')).toBe(false)
  })

  it('gives in delta(since) only the entries changed after that point', () => {
    const m = new LWWMap<number>('A')
    for (let i = 0; i < 10; i++) m.set(`k${i}`, i)
    const since = m.version
    m.set('k3', 33)
    m.delete('k7')
    expect(Object.keys(m.delta(since).entries).sort()).toEqual(['k3', 'k7'])
    expect(m.delta(since).entries['k7']).toEqual({ stamp: expect.any(Array), deleted: true })
    const other = new LWWMap<number>('B')
    other.merge(m.toJSON())
    const otherSince = other.version
    expect(Object.keys(other.delta(otherSince).entries)).toEqual([])
  })

  it('refuses invalid states, keys and values, changing nothing', () => {
    const m = new LWWMap<string>('A')
    m.set('k', 'kept')
    expect(() => m.merge({ type: 'lww-map', format: 1, entries: { k: { stamp: [9e15, 0, 'Z'], value: 'new' }, bad: { stamp: 'x' } } })).toThrow(TrysteroYjsError)
    expect(m.get('k')).toBe('kept')
    expect(() => m.merge({ type: 'lww-map', format: 1, entries: { k: { stamp: [9e15, 0, 'Z'] } } })).toThrow(/neither a value nor deleted/)
    expect(() => m.merge({ type: 'lww-register', format: 1, entry: null })).toThrow(/not a valid LWWMap state/)
    expect(() => m.set(7 as unknown as string, 'v')).toThrow(/key must be a string/)
    expect(() => m.set('k', undefined as unknown as string)).toThrow(/value of "k" is undefined/)
  })
})

describe('misuse is refused, loudly', () => {
  it('refuses non-finite clock readings and skews instead of sending stamps others cannot read', () => {
    expect(() => new WallClock({ skewMs: NaN })).toThrow(/skewMs is NaN/)
    expect(() => new WallClock({ skewMs: Infinity })).toThrow(/skewMs is Infinity/)
    expect(() => new LWWMap('A', { clock: new WallClock({ now: () => NaN }) }).set('k', 1)).toThrow(/now\(\) is NaN/)
    const map = new LWWMap('A', { clock: new HybridLogicalClock({ now: () => Infinity }) })
    expect(() => map.set('k', 1)).toThrow(/now\(\) is Infinity/)
    expect(map.toJSON().entries).toEqual({})
  })

  it('reports two different writes under one stamp (shared writer ids) instead of diverging silently', () => {
    const [one, two] = [new LWWMap('same', { clock: new WallClock({ now: () => 7 }) }), new LWWMap('same', { clock: new WallClock({ now: () => 7 }) })]
    one.set('k', 'one')
    one.set('other', 'kept')
    two.set('k', 'two')
    expect(() => one.merge(two.toJSON())).toThrow(/share the stamp \[7, 0, "same"\]; writer ids must be unique/)
    expect(one.get('k')).toBe('one')
    const [r1, r2] = [new LWWRegister('same', { clock: new WallClock({ now: () => 7 }) }), new LWWRegister('same', { clock: new WallClock({ now: () => 7 }) })]
    r1.write('one')
    r2.write('two')
    expect(() => r1.merge(r2.toJSON())).toThrow(/writer ids must be unique/)
    // The very same write merged again is fine.
    expect(r1.merge(r1.toJSON())).toBe(false)
  })

  it('keeps its own copy of merged values', () => {
    const state = { type: 'lww-map', format: 1, entries: { k: { stamp: [5, 0, 'Z'], value: { n: 1 } } } }
    const map = new LWWMap<{ n: number }>('M')
    map.merge(state)
    state.entries.k.value.n = 999
    expect(map.get('k')).toEqual({ n: 1 })
    const registerState = { type: 'lww-register', format: 1, entry: { stamp: [5, 0, 'Z'], value: { n: 1 } } }
    const register = new LWWRegister<{ n: number }>('R')
    register.merge(registerState)
    registerState.entry.value.n = 999
    expect(register.read()).toEqual({ n: 1 })
  })

  it('keeps a key named __proto__ a key, through toJSON and merge', () => {
    const a = new LWWMap<string>('A')
    a.set('__proto__', 'x')
    const b = LWWMap.fromJSON<string>(JSON.parse(JSON.stringify(a.toJSON())), 'B')
    expect(b.get('__proto__')).toBe('x')
    expect(b.keys()).toEqual(['__proto__'])
  })
})

describe('clocks', () => {
  it('wall clock with a +5 s skew: the skewed write wins although the other was made after seeing it', () => {
    const { time, now } = manualTime()
    const fast = new LWWRegister<string>('B', { clock: new WallClock({ now, skewMs: 5000 }) })
    const honest = new LWWRegister<string>('A', { clock: new WallClock({ now }) })
    fast.write('older, from the fast clock')
    time.now = 1000
    honest.merge(fast.toJSON())
    const lost = honest.write('causally later')
    fast.merge(honest.toJSON())
    // Lost at once, at the writer too: it reads back the older value, as everyone will.
    expect(compareStamps(lost, honest.stamp!)).toBeLessThan(0)
    expect(honest.read()).toBe('older, from the fast clock')
    expect(fast.read()).toBe('older, from the fast clock')
  })

  it('hybrid logical clock: the causally later write wins, whatever the skew', () => {
    const { time, now } = manualTime()
    const fast = new LWWRegister<string>('B', { clock: new HybridLogicalClock({ now: () => now() + 5000 }) })
    const honest = new LWWRegister<string>('A', { clock: new HybridLogicalClock({ now }) })
    fast.write('older, from the fast clock')
    time.now = 1000
    honest.merge(fast.toJSON())
    honest.write('causally later')
    fast.merge(honest.toJSON())
    expect(honest.read()).toBe('causally later')
    expect(fast.read()).toBe('causally later')
    expect(honest.stamp!.time).toBe(5000)
  })

  it('keeps a replica monotonic: two writes in one millisecond, or a clock stepping back', () => {
    let physical = 100
    const clock = new WallClock({ now: () => physical })
    const first = clock.next('A')
    const second = clock.next('A')
    physical = 50
    const third = clock.next('A')
    expect(compareStamps(second, first)).toBeGreaterThan(0)
    expect(compareStamps(third, second)).toBeGreaterThan(0)
  })
})
