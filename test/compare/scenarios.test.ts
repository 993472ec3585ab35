/** Every built-in scenario's outcome, on each side, and the runner's own guarantees. */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  builtInScenarios, clockSkew, concurrentSet, deleteRacingSet, lateJoiner, manyKeys, offlineEdits, partitionHeal,
  runScenario, scenarioTable, summaryTable, type ScenarioResult, type SideId
} from '../../src/compare/index.js'

const side = (result: ScenarioResult, id: SideId) => result.sides.find((s) => s.side === id)!
const finalAtA = (result: ScenarioResult, id: SideId) => side(result, id).values['A']!
const contest = (result: ScenarioResult, id: SideId, key: string) => side(result, id).contests.find((c) => c.key === key)!
const lww: SideId[] = ['lww-wall', 'lww-hlc']

const expectConvergedWithoutCausalLoss = (result: ScenarioResult, sides: SideId[] = ['lww-wall', 'lww-hlc', 'ymap']): void => {
  for (const id of sides) {
    expect(side(result, id).converged, id).toBe(true)
    expect(side(result, id).causallyLaterLost, id).toBe(0)
  }
}

describe('built-in scenarios', () => {
  it('premise of the Y.Map explanations: Yjs keeps the higher client id among concurrent sets, and a set survives a concurrent delete', () => {
    for (const [low, high] of [[1, 2], [7, 100]] as const) {
      const [a, b] = [new Y.Doc(), new Y.Doc()]
      a.clientID = high
      b.clientID = low
      a.getMap('m').set('k', 'high')
      b.getMap('m').set('k', 'low')
      Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
      expect(a.getMap('m').get('k')).toBe('high')
    }
    const [c, d] = [new Y.Doc(), new Y.Doc()]
    c.getMap('m').set('k', 'base')
    Y.applyUpdate(d, Y.encodeStateAsUpdate(c))
    c.getMap('m').delete('k')
    d.getMap('m').set('k', 'concurrent set')
    Y.applyUpdate(c, Y.encodeStateAsUpdate(d))
    expect(c.getMap('m').get('k')).toBe('concurrent set')
  })

  it('premise: concurrent sets that replaced different values are ordered by those values, not by client id', () => {
    const [a, b, c] = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
    ;[a.clientID, b.clientID, c.clientID] = [1, 2, 3]
    const sync = (from: Y.Doc, to: Y.Doc): void => Y.applyUpdate(to, Y.encodeStateAsUpdate(from))
    c.getMap('m').set('k', 'x0')
    sync(c, a); sync(c, b)
    c.getMap('m').set('k', 'x1')
    sync(c, a)
    a.getMap('m').set('k', 'a (replaced x1)')
    b.getMap('m').set('k', 'b (replaced x0)')
    sync(a, b); sync(b, a)
    expect([a.getMap('m').get('k'), b.getMap('m').get('k')]).toEqual(['a (replaced x1)', 'a (replaced x1)'])
  })

  it('explains a Y.Map win by the replaced value, not the client id, when two concurrent sets replaced different values', async () => {
    const result = await runScenario({
      id: 'origins', title: 'origins', question: '',
      replicas: [{ id: 'A', clientId: 1 }, { id: 'B', clientId: 2 }, { id: 'C', clientId: 3 }],
      latencyMs: 30,
      steps: [
        { at: 0, replica: 'C', set: 'k', value: 'x0' },
        { at: 100, offline: 'B' },
        { at: 200, replica: 'C', set: 'k', value: 'x1' },
        { at: 300, replica: 'A', set: 'k', value: 'a' },
        { at: 310, replica: 'B', set: 'k', value: 'b' },
        { at: 1000, online: 'B' }
      ]
    })
    expect(finalAtA(result, 'ymap')).toEqual({ k: 'a' })
    const why = contest(result, 'ymap', 'k').why
    expect(why).toMatch(/replaced different values \("x1" vs "x0"\)/)
    expect(why).not.toMatch(/client id/)
  })

  it('names the delete that removed the last value as the Y.Map winner, not merely the last delete', async () => {
    const result = await runScenario({
      id: 'deletes', title: 'deletes', question: '',
      replicas: [{ id: 'A', clientId: 1 }, { id: 'B', clientId: 2 }],
      latencyMs: 30,
      steps: [
        { at: 0, offline: 'B' },
        { at: 10, replica: 'A', set: 'k', value: 'v' },
        { at: 100, replica: 'A', delete: 'k' },
        { at: 200, replica: 'B', delete: 'k' },
        { at: 500, online: 'B' }
      ]
    })
    const { winner, losers } = contest(result, 'ymap', 'k')
    expect(winner?.replica).toBe('A')
    expect(losers.find((l) => l.write.replica === 'B')!.why).toMatch(/removed nothing/)
  })

  it('counts every write lost to a larger stamp its replica had seen, not only losses to the final winner', async () => {
    const result = await runScenario({
      id: 'lost', title: 'lost', question: '',
      replicas: [{ id: 'A', clientId: 1 }, { id: 'B', clientId: 2, clockSkewMs: 5000 }, { id: 'C', clientId: 3 }],
      latencyMs: 20,
      steps: [
        { at: 0, replica: 'B', set: 'x', value: 'B first' },
        { at: 1000, replica: 'A', set: 'x', value: 'A after seeing it' },
        { at: 2000, replica: 'C', set: 'x', value: 'C after seeing it' },
        { at: 3000, replica: 'B', set: 'x', value: 'B again' }
      ]
    })
    const wall = contest(result, 'lww-wall', 'x')
    expect(wall.winner?.value).toBe('B again')
    expect(wall.causallyLaterLost.map((w) => w.replica).sort()).toEqual(['A', 'C'])
    expect(wall.losers.find((l) => l.write.replica === 'C')!.why).toMatch(/C wrote after seeing B's set to "B first", yet lost to it/)
    expect(side(result, 'lww-hlc').causallyLaterLost).toBe(0)
  })

  it('gives the three sides the same network: each write saw the same earlier writes of its key (traceless deletes aside)', async () => {
    for (const scenario of builtInScenarios()) expect((await runScenario(scenario)).historiesDiffer, scenario.id).toBe(0)
  })

  it('concurrent set: LWW keeps the later clock reading (A), Y.Map the higher client id (B)', async () => {
    const result = await runScenario(concurrentSet)
    expectConvergedWithoutCausalLoss(result)
    for (const id of lww) expect(finalAtA(result, id)).toEqual({ color: 'red' })
    expect(finalAtA(result, 'ymap')).toEqual({ color: 'blue' })
    expect(contest(result, 'ymap', 'color').why).toMatch(/both replacing the same value: Yjs keeps the higher client id \(2 > 1\)/)
    expect(contest(result, 'lww-wall', 'color').why).toMatch(/larger stamp wins \(A@20ms > B@0ms\)/)
  })

  it('delete racing a set: LWW lets the later delete win, Y.Map keeps the set the delete had not seen', async () => {
    const result = await runScenario(deleteRacingSet)
    expectConvergedWithoutCausalLoss(result)
    for (const id of lww) expect(finalAtA(result, id)).toEqual({})
    expect(finalAtA(result, 'ymap')).toEqual({ title: 'Final' })
    expect(contest(result, 'ymap', 'title').why).toMatch(/removed only the value it had seen/)
  })

  it('offline edits: both merge keys of their own; on shared keys LWW follows time, Y.Map client ids', async () => {
    const result = await runScenario(offlineEdits)
    expectConvergedWithoutCausalLoss(result)
    for (const id of lww) expect(finalAtA(result, id)).toEqual({ author: 'A', status: 'published (A)' })
    expect(finalAtA(result, 'ymap')).toEqual({ author: 'A', reviewer: 'B', status: 'in review (B)' })
    expect(contest(result, 'ymap', 'reviewer').why).toMatch(/removed nothing/)
  })

  it('clock skew +5 s: with a wall clock the older write of the fast replica wins; with an HLC and in Y.Map the causally later one does', async () => {
    const result = await runScenario(clockSkew)
    expect(finalAtA(result, 'lww-wall')).toEqual({ color: 'blue' })
    expect(side(result, 'lww-wall').causallyLaterLost).toBe(1)
    expect(contest(result, 'lww-wall', 'color').causallyLaterLost.map((w) => w.replica)).toEqual(['A'])
    expect(contest(result, 'lww-wall', 'color').why).toMatch(/A wrote after seeing B's set to "blue", yet lost to it: B@5000ms is larger than A@1000ms/)
    expect(finalAtA(result, 'lww-hlc')).toEqual({ color: 'red' })
    expect(finalAtA(result, 'ymap')).toEqual({ color: 'red' })
    expect(contest(result, 'ymap', 'color').why).toMatch(/causal order/)
    expectConvergedWithoutCausalLoss(result, ['lww-hlc', 'ymap'])
  })

  it('late joiner: C receives everything, tombstones included, on every side', async () => {
    const result = await runScenario(lateJoiner)
    expectConvergedWithoutCausalLoss(result)
    for (const s of result.sides) {
      expect(Object.keys(s.values['C']!)).toHaveLength(15)
      expect(s.values['C']).toEqual(s.values['A'])
      expect(s.metadata.tombstones).toBe(5)
    }
  })

  it('partition: after healing, LWW keeps the later write and delete; Y.Map the higher client id and the set the delete had not seen', async () => {
    const result = await runScenario(partitionHeal)
    expectConvergedWithoutCausalLoss(result)
    for (const id of lww) expect(finalAtA(result, id)).toEqual({ plan: 'v1 (B, left half)' })
    expect(finalAtA(result, 'ymap')).toEqual({ owner: 'B', plan: 'v1 (C, right half)' })
  })

  it('many keys: all converge; only the wall clock loses causally later writes; Y.Map keeps more tombstones', async () => {
    const result = await runScenario(manyKeys())
    for (const s of result.sides) expect(s.converged, s.side).toBe(true)
    expect(side(result, 'lww-wall').causallyLaterLost).toBeGreaterThan(0)
    expect(side(result, 'lww-hlc').causallyLaterLost).toBe(0)
    expect(side(result, 'ymap').causallyLaterLost).toBe(0)
    expect(side(result, 'ymap').metadata.tombstones).toBeGreaterThan(side(result, 'lww-hlc').metadata.tombstones)
    expect(result.differsFromYMap['lww-wall'].length).toBeGreaterThan(result.differsFromYMap['lww-hlc'].length)
  })

  it('is deterministic: the same scenario gives the same result', async () => {
    const [first, second] = [await runScenario(manyKeys({ operations: 60 })), await runScenario(manyKeys({ operations: 60 }))]
    expect(JSON.stringify(second)).toBe(JSON.stringify(first))
  })

  it('prints a table per scenario and a summary row for each', async () => {
    const results = [await runScenario(clockSkew), await runScenario(concurrentSet)]
    expect(summaryTable(results).split('\n')).toHaveLength(4)
    const clockTable = scenarioTable(results[0]!)
    expect(clockTable).toContain('| final `color` | "blue" (B) | "red" (A) | "red" (A) |')
    expect(clockTable).toContain('| causally later writes lost | 1 | 0 | 0 |')
    expect(builtInScenarios().map((s) => s.id)).toEqual(['concurrent-set', 'delete-vs-set', 'offline-edits', 'clock-skew', 'late-joiner', 'partition', 'many-keys'])
  })

  it('refuses a scenario that names unknown replicas or writes before a replica joined', async () => {
    await expect(runScenario({ ...concurrentSet, steps: [{ at: 0, replica: 'Z', set: 'k', value: 1 }] })).rejects.toThrow(/unknown replica "Z"/)
    await expect(runScenario({ ...lateJoiner, steps: [{ at: 10, replica: 'C', set: 'k', value: 1 }] })).rejects.toThrow(/C writes at 10 ms, before it joins at 1000 ms/)
    await expect(runScenario({ ...concurrentSet, replicas: [{ id: 'A', clientId: 1 }, { id: 'B', clientId: 1 }] })).rejects.toThrow(/unique/)
  })
})
