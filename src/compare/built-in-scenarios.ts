/**
 * The scenarios `npm run compare` plays, each built to show one difference (or agreement)
 * between last-writer-wins and Y.Map. Replica A has Yjs client id 1, B 2, and so on: among
 * concurrent writes that replaced the same value Yjs keeps the higher client id, so these ids are
 * part of each story.
 */
import * as prng from 'lib0/prng'
import type { Scenario, ScenarioReplica, ScenarioStep } from './scenario.js'

const replicas = (...ids: string[]): ScenarioReplica[] => ids.map((id, i) => ({ id, clientId: i + 1 }))

/** Two replicas set one key 20 ms apart, before either hears of the other. */
export const concurrentSet: Scenario = {
  id: 'concurrent-set',
  title: 'Concurrent set of the same key',
  question: 'B sets `color` to blue; 20 ms later A, not having heard of it yet (latency 50 ms), sets it to red. Who wins?',
  replicas: replicas('A', 'B'),
  latencyMs: 50,
  steps: [
    { at: 0, replica: 'B', set: 'color', value: 'blue' },
    { at: 20, replica: 'A', set: 'color', value: 'red' }
  ]
}

/** A delete racing a set of the same key. */
export const deleteRacingSet: Scenario = {
  id: 'delete-vs-set',
  title: 'A delete racing a set',
  question: 'Both replicas have `title` = Draft. B changes it to Final; 20 ms later A, unaware, deletes the key. Is the key there at the end?',
  replicas: replicas('A', 'B'),
  latencyMs: 50,
  steps: [
    { at: 0, replica: 'A', set: 'title', value: 'Draft' },
    { at: 100, replica: 'B', set: 'title', value: 'Final' },
    { at: 120, replica: 'A', delete: 'title' }
  ]
}

/** A replica edits offline, then comes back. */
export const offlineEdits: Scenario = {
  id: 'offline-edits',
  title: 'Offline edits, then reconnect',
  question: 'A goes offline. B edits `status`, then A (still offline, later in time) edits it too, and both edit keys of their own. A comes back: what is merged?',
  replicas: replicas('A', 'B'),
  latencyMs: 30,
  steps: [
    { at: 0, replica: 'A', set: 'status', value: 'draft' },
    { at: 100, offline: 'A' },
    { at: 200, replica: 'B', set: 'status', value: 'in review (B)' },
    { at: 250, replica: 'B', set: 'reviewer', value: 'B' },
    { at: 300, replica: 'A', set: 'status', value: 'published (A)' },
    { at: 350, replica: 'A', delete: 'reviewer' },
    { at: 400, replica: 'A', set: 'author', value: 'A' },
    { at: 1000, online: 'A' }
  ]
}

/** A replica whose clock runs 5 s fast beats a later write: LWW's classic failure. */
export const clockSkew: Scenario = {
  id: 'clock-skew',
  title: 'A replica whose clock runs 5 s fast',
  question: "B's clock is 5 s ahead. B sets `color` to blue; A receives it, and a second later sets it to red — a write made after seeing B's. Who wins?",
  replicas: [{ id: 'A', clientId: 1 }, { id: 'B', clientId: 2, clockSkewMs: 5000 }],
  latencyMs: 50,
  steps: [
    { at: 0, replica: 'B', set: 'color', value: 'blue' },
    { at: 1000, replica: 'A', set: 'color', value: 'red' }
  ]
}

/** A replica that joins after 20 keys were written and 5 deleted: what it receives, at what cost. */
export const lateJoiner: Scenario = {
  id: 'late-joiner',
  title: 'A late joiner',
  question: 'A and B fill 20 keys and delete 5 of them; C joins a second later. What does C receive, and at what cost?',
  replicas: [...replicas('A', 'B'), { id: 'C', clientId: 3, joinAt: 1000 }],
  latencyMs: 20,
  steps: [
    ...Array.from({ length: 20 }, (_, i): ScenarioStep => ({ at: 10 * i, replica: i % 2 === 0 ? 'A' : 'B', set: `item${i}`, value: `value ${i}` })),
    ...Array.from({ length: 5 }, (_, i): ScenarioStep => ({ at: 300 + 10 * i, replica: 'B', delete: `item${i * 3}` }))
  ],
  focusKeys: []
}

/** Four replicas split in two halves that edit apart, then heal. */
export const partitionHeal: Scenario = {
  id: 'partition',
  title: 'A partition that heals',
  question: 'Four replicas share `plan` and `owner`, then split in two halves, {A, B} and {C, D}. Each half edits `plan`; B sets `owner` and D deletes it. The network heals: what do all four agree on?',
  replicas: replicas('A', 'B', 'C', 'D'),
  latencyMs: 25,
  steps: [
    { at: 0, replica: 'A', set: 'plan', value: 'v0' },
    { at: 0, replica: 'A', set: 'owner', value: 'A' },
    // Late enough for every replica to have joined and synced both values.
    { at: 300, partition: [['A', 'B'], ['C', 'D']] },
    { at: 400, replica: 'C', set: 'plan', value: 'v1 (C, right half)' },
    { at: 500, replica: 'B', set: 'plan', value: 'v1 (B, left half)' },
    { at: 550, replica: 'B', set: 'owner', value: 'B' },
    { at: 600, replica: 'D', delete: 'owner' },
    { at: 1200, heal: true }
  ]
}

/** Many replicas, many keys, random sets and deletes, one fast clock: the aggregate picture. */
export const manyKeys = (options: { replicas?: number, keys?: number, operations?: number, seed?: number } = {}): Scenario => {
  const count = options.replicas ?? 5
  const keys = options.keys ?? 40
  const operations = options.operations ?? 300
  const random = prng.create(options.seed ?? 7)
  const ids = Array.from({ length: count }, (_, i) => String.fromCharCode(65 + i))
  const steps: ScenarioStep[] = []
  for (let i = 0; i < operations; i++) {
    const at = Math.floor((i * 2000) / operations) + prng.uint32(random, 0, 5)
    const replica = ids[prng.uint32(random, 0, count - 1)]!
    const key = `key${prng.uint32(random, 0, keys - 1)}`
    steps.push(prng.uint32(random, 0, 4) === 0 ? { at, replica, delete: key } : { at, replica, set: key, value: `${replica}${i}` })
  }
  return {
    id: 'many-keys',
    title: 'Many keys edited by many replicas',
    question: `${count} replicas make ${operations} random sets and deletes on ${keys} keys over 2 s, with 5–80 ms latency; replica B's clock runs 3 s fast. How often do the three disagree, and what does each keep?`,
    replicas: ids.map((id, i) => ({ id, clientId: i + 1, ...(id === 'B' ? { clockSkewMs: 3000 } : {}) })),
    latencyMs: [5, 80],
    seed: options.seed ?? 7,
    steps,
    focusKeys: []
  }
}

/** Every built-in scenario, in the order `npm run compare` plays them. */
export const builtInScenarios = (): Scenario[] =>
  [concurrentSet, deleteRacingSet, offlineEdits, clockSkew, lateJoiner, partitionHeal, manyKeys()]
