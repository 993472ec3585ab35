/**
 * The whole-state snapshot a provider keeps for peers that open the document for the first time
 * (src/provider/state-snapshot.ts, PROTOCOL.md §3.3): built at an idle moment, answered from
 * as the step 2 while the document is unchanged, as an Update plus a step 2 of what changed since
 * when that is small, rebuilt when it is not; never in another format than its own. Real Yjs
 * documents and encodings; only the idle timer is faked.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { syncMessage } from '../../src/compact/compact-sender.js'
import { inflateRaw } from '../../src/compact/deflate-raw.js'
import type { DocMessage } from '../../src/protocol/doc-messages.js'
import { StateSnapshot, snapshotIdleMs } from '../../src/provider/state-snapshot.js'
import { encodeStateAsUpdateWithoutPending } from '../../src/sync/pending-quarantine.js'
import type { UpdateFormat } from '../../src/sync/update-check.js'

const prose = (words: number): string => Array.from({ length: words }, (_, i) => ['peer', 'state', 'vector', 'room', 'yjs'][(i * 7) % 5]).join(' ')

const setup = (format: UpdateFormat, options: { maxBytes?: number } = {}) => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, prose(3000))
  doc.getText('text').delete(100, 50)
  let clock = 0
  const encodes: Array<{ empty: boolean }> = []
  const snapshot = new StateSnapshot({
    doc,
    format,
    encode: (stateVector, f) => {
      encodes.push({ empty: stateVector.byteLength === 1 && stateVector[0] === 0 })
      return encodeStateAsUpdateWithoutPending(doc, stateVector, f)
    },
    message: syncMessage
  }, () => clock, options.maxBytes)
  return { doc, snapshot, encodes, advance: (ms: number) => { clock += ms; vi.advanceTimersByTime(ms) } }
}

/**
 * Built at the first idle moment (V1: no compression, so its cost is taken on the fake clock in
 * the next microtask, 0 ms), then edited by one character while nobody asked.
 */
const builtThenEdited = async () => {
  const built = setup('v1')
  built.snapshot.activate()
  built.advance(snapshotIdleMs)
  await Promise.resolve()
  built.doc.getText('text').insert(0, 'a')
  built.advance(snapshotIdleMs * 5)
  return built
}

/** A snapshot found over its size limit: answers nothing, and builds nothing ahead after a change. */
const keepsNothing = ({ doc, snapshot, encodes, advance }: ReturnType<typeof setup>): void => {
  expect(snapshot.answerFresh('v1')).toBeNull()
  doc.getText('text').insert(0, 'more')
  advance(snapshotIdleMs * 10)
  expect(encodes).toHaveLength(1)
  snapshot.deactivate()
}

/** Applies an answer to a new document the way a receiver does: each message (a frame each) in order. */
const receive = async (answer: Array<Promise<DocMessage>>): Promise<{ doc: Y.Doc, types: string[] }> => {
  const messages = await Promise.all(answer)
  const doc = new Y.Doc()
  const types: string[] = []
  for (const message of messages) {
    if (message.type === 'compact') {
      types.push(`compact ${message.syncType}`)
      const inflated = message.compressed ? await inflateRaw(message.payload, message.updateBytes) : { ok: true as const, bytes: message.payload }
      if (!inflated.ok) throw new Error('inflate failed')
      Y.applyUpdateV2(doc, inflated.bytes)
    } else if (message.type === 'sync-step2' || message.type === 'sync-update') {
      types.push(message.type)
      Y.applyUpdate(doc, message.update)
    }
  }
  return { doc, types }
}

describe('whole-state snapshot', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }) })
  afterEach(() => { vi.useRealTimers() })

  it('is built once the document is idle, and answers a fresh peer with no further encoding', async () => {
    const { doc, snapshot, encodes, advance } = setup('v2')
    snapshot.activate()
    advance(snapshotIdleMs - 1)
    expect(encodes).toEqual([])
    advance(1)
    expect(encodes).toEqual([{ empty: true }])
    const { doc: fresh, types } = await receive((await snapshot.answerFresh('v2'))!)
    expect(types).toEqual(['compact sync-step2'])
    expect(encodes).toHaveLength(1)
    expect(Y.encodeStateAsUpdate(fresh)).toEqual(Y.encodeStateAsUpdate(doc))
    snapshot.deactivate()
  })

  it('waits for the document to stay unchanged for the idle time', () => {
    const { doc, snapshot, encodes, advance } = setup('v2')
    snapshot.activate()
    advance(snapshotIdleMs / 2)
    doc.getText('text').insert(0, 'typing ')
    advance(snapshotIdleMs / 2)
    expect(encodes).toEqual([])
    advance(snapshotIdleMs / 2)
    expect(encodes).toEqual([{ empty: true }])
    snapshot.deactivate()
  })

  it.each(['v1', 'v2'] as const)('after a small change (%s): the snapshot as an Update, then a step 2 of what changed since, deletions included', async (format) => {
    const { doc, snapshot, encodes, advance } = setup(format)
    snapshot.activate()
    advance(snapshotIdleMs)
    doc.getText('text').insert(10, 'inserted after the snapshot')
    doc.getText('text').delete(500, 20)
    const { doc: fresh, types } = await receive((await snapshot.answerFresh(format))!)
    // The step 2 comes last, so that `synced` (which waits for it) means everything is in.
    expect(types).toEqual(format === 'v2' ? ['compact sync-update', 'sync-step2'] : ['sync-update', 'sync-step2'])
    expect(encodes).toEqual([{ empty: true }, { empty: false }])
    expect(fresh.getText('text').toString()).toBe(doc.getText('text').toString())
    expect(Y.encodeStateAsUpdate(fresh)).toEqual(Y.encodeStateAsUpdate(doc))
    snapshot.deactivate()
  })

  it('is encoded again when what changed since is more than a quarter of it', async () => {
    const { doc, snapshot, encodes, advance } = setup('v2')
    snapshot.activate()
    advance(snapshotIdleMs)
    doc.getText('text').insert(0, prose(3000))
    const { doc: fresh, types } = await receive((await snapshot.answerFresh('v2'))!)
    expect(types).toEqual(['compact sync-step2'])
    expect(encodes).toEqual([{ empty: true }, { empty: false }, { empty: true }])
    expect(Y.encodeStateAsUpdate(fresh)).toEqual(Y.encodeStateAsUpdate(doc))
    // Current again: the next fresh peer costs no encoding.
    await snapshot.answerFresh('v2')
    expect(encodes).toHaveLength(3)
    snapshot.deactivate()
  })

  it('is rebuilt at idle only once a fresh peer was answered from it', async () => {
    const { doc, snapshot, encodes, advance } = await builtThenEdited()
    // Nobody asked: no rebuild after the change.
    expect(encodes).toHaveLength(1)
    await snapshot.answerFresh('v1')
    expect(encodes).toHaveLength(2)
    doc.getText('text').insert(0, 'b')
    advance(snapshotIdleMs)
    // Asked for: rebuilt at the next idle moment.
    expect(encodes).toHaveLength(3)
    expect(encodes[2]).toEqual({ empty: true })
    snapshot.deactivate()
  })

  it('spends at most 5% of the time on rebuilds', async () => {
    let clock = 0
    const doc = new Y.Doc()
    doc.getText('text').insert(0, prose(100))
    const builds: number[] = []
    const snapshot = new StateSnapshot({
      doc,
      format: 'v1',
      // Each whole-state encoding takes 100 ms on the fake clock.
      encode: (stateVector, f) => {
        if (stateVector.byteLength === 1) { builds.push(clock); clock += 100 }
        return encodeStateAsUpdateWithoutPending(doc, stateVector, f)
      },
      message: syncMessage
    }, () => clock)
    const advance = (ms: number): void => { clock += ms; vi.advanceTimersByTime(ms) }
    snapshot.activate()
    advance(snapshotIdleMs)
    expect(builds).toEqual([snapshotIdleMs])
    await Promise.resolve()
    await snapshot.answerFresh('v1')
    doc.getText('text').insert(0, 'b')
    // Idle again 1 s after the edit, but the last build (100 ms) started only 1.1 s ago: the next
    // one starts 2 s (20 × 100 ms) after it.
    advance(snapshotIdleMs)
    expect(builds).toHaveLength(1)
    advance(900)
    expect(builds).toEqual([snapshotIdleMs, snapshotIdleMs + 2000])
    snapshot.deactivate()
  })

  it('sees a change even when an app afterTransaction listener registered before it throws', async () => {
    const doc = new Y.Doc()
    doc.getText('text').insert(0, prose(3000))
    // App code (an UndoManager, a store) listening before the provider; it throws on one edit.
    doc.on('afterTransaction', (transaction: Y.Transaction) => {
      if (transaction.origin === 'bad') throw new TypeError('app listener failed')
    })
    let clock = 0
    const snapshot = new StateSnapshot({ doc, format: 'v1', encode: (sv, f) => encodeStateAsUpdateWithoutPending(doc, sv, f), message: syncMessage }, () => clock)
    snapshot.activate()
    clock += snapshotIdleMs
    vi.advanceTimersByTime(snapshotIdleMs)
    // The edit is in the document (and goes to connected peers by Yjs's update event); the app sees its listener's error.
    expect(() => doc.transact(() => doc.getText('text').insert(0, 'kept '), 'bad')).toThrow('app listener failed')
    expect(doc.getText('text').toString().startsWith('kept ')).toBe(true)
    const { doc: fresh } = await receive((await snapshot.answerFresh('v1'))!)
    expect(fresh.getText('text').toString().startsWith('kept ')).toBe(true)
    expect(Y.encodeStateAsUpdate(fresh)).toEqual(Y.encodeStateAsUpdate(doc))
    snapshot.deactivate()
  })

  it('is rebuilt at idle when a fresh peer is answered after the last change, with no change after it', async () => {
    const { snapshot, encodes, advance } = await builtThenEdited()
    // Answered from the snapshot and what changed since; nothing changes after.
    await snapshot.answerFresh('v1')
    expect(encodes).toEqual([{ empty: true }, { empty: false }])
    advance(snapshotIdleMs * 5)
    expect(encodes).toEqual([{ empty: true }, { empty: false }, { empty: true }])
    // Current again: the next fresh peer costs no encoding.
    await snapshot.answerFresh('v1')
    expect(encodes).toHaveLength(3)
    snapshot.deactivate()
  })

  it('does not compress a state found over its size limit at an idle moment (nobody asked for it)', () => {
    const doc = new Y.Doc()
    doc.getText('text').insert(0, prose(3000))
    const messages: string[] = []
    let clock = 0
    const snapshot = new StateSnapshot({
      doc,
      format: 'v2',
      encode: (sv, f) => encodeStateAsUpdateWithoutPending(doc, sv, f),
      message: (syncType, update, f) => { messages.push(syncType); return syncMessage(syncType, update, f) }
    }, () => clock, 100)
    snapshot.activate()
    clock += snapshotIdleMs
    vi.advanceTimersByTime(snapshotIdleMs)
    expect(snapshot.answerFresh('v2')).toBeNull()
    expect(messages).toEqual([])
    snapshot.deactivate()
  })

  it('answers only peers taking its own format, only while active, and keeps nothing over its size limit', async () => {
    const { snapshot, encodes, advance } = setup('v2')
    expect(snapshot.answerFresh('v2')).toBeNull()
    snapshot.activate()
    expect(snapshot.answerFresh('v1')).toBeNull()
    advance(snapshotIdleMs)
    snapshot.deactivate()
    expect(snapshot.answerFresh('v2')).toBeNull()
    advance(snapshotIdleMs * 10)
    expect(encodes).toHaveLength(1)

    // Over the size limit when asked: that answer is the encoding, nothing is kept, and the caller
    // encodes the next answers itself; nothing is built ahead any more.
    const big = setup('v1', { maxBytes: 100 })
    big.snapshot.activate()
    const { doc: fresh } = await receive((await big.snapshot.answerFresh('v1'))!)
    expect(Y.encodeStateAsUpdate(fresh)).toEqual(Y.encodeStateAsUpdate(big.doc))
    expect(big.encodes).toHaveLength(1)
    keepsNothing(big)

    // Found over the limit at an idle moment: no answer from it either.
    const idle = setup('v1', { maxBytes: 100 })
    idle.snapshot.activate()
    idle.advance(snapshotIdleMs)
    expect(idle.encodes).toHaveLength(1)
    keepsNothing(idle)
  })
})
