/**
 * A peer floods valid updates whose history is missing (each from a client whose first edit it
 * never sends). Plain Yjs merges each into the document's pending set, at a cost that grows with
 * the set; `PendingQuarantine` keeps them per peer, bounded. Standalone:
 *
 *   npx tsx bench/scenarios/pending-flood.ts [count ...] [--plain-up-to=N]
 *
 * (default counts 5000 20000; plain Yjs is skipped above N, default: never). Times are the
 * synchronous work of receiving all updates, i.e. how long the main thread is busy.
 */
import * as Y from 'yjs'
import { PendingQuarantine } from '../../src/sync/pending-quarantine.js'
import { toMarkdown, type Cell } from '../support/report.js'
import { missingHistoryUpdate } from '../harness/protocol-attacks.js'

const args = process.argv.slice(2)
const counts = args.filter((a) => !a.startsWith('--')).map(Number)
const plainUpTo = Number(args.find((a) => a.startsWith('--plain-up-to='))?.split('=')[1] ?? Infinity)

/** Real Yjs updates: each client types twice; only the second edit is sent. */
const flood = (count: number): Uint8Array[] => Array.from({ length: count }, (_, i) => missingHistoryUpdate(i))

const step2Bytes = (doc: Y.Doc): number => Y.encodeStateAsUpdate(doc, Y.encodeStateVector(new Y.Doc())).byteLength

const plain = (updates: Uint8Array[]) => {
  const doc = new Y.Doc()
  const start = performance.now()
  let slowest = 0
  for (const update of updates) {
    const t = performance.now()
    Y.applyUpdate(doc, update)
    slowest = Math.max(slowest, performance.now() - t)
  }
  const ms = performance.now() - start
  const kept = (doc.store.pendingStructs?.update.byteLength ?? 0) + (doc.store.pendingDs?.byteLength ?? 0)
  return { ms, slowest, kept, step2: step2Bytes(doc) }
}

const quarantined = (updates: Uint8Array[]) => {
  const doc = new Y.Doc()
  const quarantine = new PendingQuarantine(doc)
  let overflows = 0
  let slowest = 0
  const start = performance.now()
  for (const update of updates) {
    const t = performance.now()
    const report = quarantine.receive('flooder', update)
    slowest = Math.max(slowest, performance.now() - t)
    if (report.status !== 'rejected' && report.overflow !== null) overflows++
  }
  const ms = performance.now() - start
  return { ms, slowest, held: quarantine.held(), overflows, step2: step2Bytes(doc) }
}

const rows: Cell[][] = []
for (const count of counts.length > 0 ? counts : [5000, 20_000]) {
  const updates = flood(count)
  const bytes = updates.reduce((sum, u) => sum + u.byteLength, 0)
  const p = count <= plainUpTo ? plain(updates) : null
  const q = quarantined(updates)
  rows.push([
    count, bytes,
    p === null ? null : Math.round(p.ms), p === null ? null : p.slowest, p?.kept ?? null, p?.step2 ?? null,
    Math.round(q.ms), q.slowest, `${q.held.entries} / ${q.held.bytes}`, q.overflows, q.step2
  ])
}
console.log(toMarkdown({
  title: `Pending flood: one peer sends updates lacking their history (Node ${process.version}, yjs ${(await import('yjs/package.json', { with: { type: 'json' } })).default.version})`,
  columns: ['updates', 'bytes', 'plain Yjs: busy ms', 'slowest update ms', 'pending kept (bytes)', 'step 2 to a new peer (bytes)', 'quarantine: busy ms', 'slowest update ms', 'held (entries / bytes)', 'overflows reported', 'step 2 (bytes)'],
  rows,
  notes: ['quarantine bounds: 256 entries, 1 MiB per peer (defaults); busy = synchronous time to receive all updates']
}))
