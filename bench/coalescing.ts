/**
 * How the provider turns the updates of one tick into one message (src/update-coalescer.ts),
 * against the two obvious ways, on a document with a real deletion history (B4):
 *
 * - flat `Y.mergeUpdates(all)`: grows superlinearly with the number of updates;
 * - `Y.encodeStateAsUpdate(doc, stateVectorBeforeTheBurst)`: fast, but carries the document's
 *   whole delete set, even for one keystroke;
 * - ours: merged 32 at a time as they arrive (an LSM tree) up to 256 updates, the state-vector
 *   encoding beyond.
 *
 * Times are medians over `repeats`, of the whole work a burst costs (ours includes the merges
 * done while updates arrive). Message bytes add Trystero's 103 bytes of framing.
 */
import * as Y from 'yjs'
import { UpdateCoalescer } from '../src/update-coalescer.js'
import { b4OrStandIn } from './support/editing-traces.js'
import { median, type Table } from './support/report.js'

const trysteroFraming = 103

export interface CoalescingOptions {
  burstSizes: number[]
  repeats: number
  doc?: { doc: Y.Doc, source: string }
}

export interface CoalescingRow {
  updates: number
  flat: { bytes: number, ms: number }
  stateVector: { bytes: number, ms: number }
  ours: { bytes: number, ms: number }
  /** Our merged update brings a replica to the same state as all the updates. */
  oursCorrect: boolean
}

const time = (f: () => Uint8Array): { bytes: number, ms: number, result: Uint8Array } => {
  const start = performance.now()
  const result = f()
  return { bytes: result.byteLength + trysteroFraming, ms: performance.now() - start, result }
}

export const runCoalescing = ({ burstSizes, repeats, doc: source = b4OrStandIn() }: CoalescingOptions): { rows: CoalescingRow[], source: string } => {
  const base = Y.encodeStateAsUpdate(source.doc)
  const rows: CoalescingRow[] = []
  for (const updates of burstSizes) {
    const samples = { flat: [] as number[], stateVector: [] as number[], ours: [] as number[] }
    let bytes = { flat: 0, stateVector: 0, ours: 0 }
    let oursCorrect = true
    for (let r = 0; r < repeats; r++) {
      const doc = new Y.Doc()
      Y.applyUpdate(doc, base)
      const text = doc.getText('text')
      const before = Y.encodeStateVector(doc)
      const pending: Uint8Array[] = []
      const coalescer = new UpdateCoalescer(doc)
      let addMs = 0
      doc.on('update', (update: Uint8Array, _origin: unknown, _doc: Y.Doc, transaction: Y.Transaction) => {
        pending.push(update)
        const start = performance.now()
        coalescer.add(update, transaction)
        addMs += performance.now() - start
      })
      for (let i = 0; i < updates; i++) text.insert((i * 7919) % (text.length + 1), 'x')
      const flat = time(() => Y.mergeUpdates(pending))
      const stateVector = time(() => Y.encodeStateAsUpdate(doc, before))
      const ours = time(() => coalescer.take()!)
      samples.flat.push(flat.ms)
      samples.stateVector.push(stateVector.ms)
      samples.ours.push(ours.ms + addMs)
      bytes = { flat: flat.bytes, stateVector: stateVector.bytes, ours: ours.bytes }
      const replica = new Y.Doc()
      Y.applyUpdate(replica, base)
      Y.applyUpdate(replica, ours.result)
      oursCorrect &&= replica.getText('text').toString() === text.toString()
    }
    rows.push({
      updates,
      flat: { bytes: bytes.flat, ms: median(samples.flat) },
      stateVector: { bytes: bytes.stateVector, ms: median(samples.stateVector) },
      ours: { bytes: bytes.ours, ms: median(samples.ours) },
      oursCorrect
    })
  }
  return { rows, source: source.source }
}

export const coalescingTable = ({ rows, source }: { rows: CoalescingRow[], source: string }, repeats: number): Table => ({
  title: `Coalescing a burst of single-character edits into one message (${source})`,
  columns: ['updates in the tick', 'flat mergeUpdates: bytes', 'ms', 'state-vector encode: bytes', 'ms', 'ours (UpdateCoalescer): bytes', 'ms',
    'ours / flat: ms', 'ours / state-vector: bytes'],
  rows: rows.map((r) => [r.updates, r.flat.bytes, r.flat.ms, r.stateVector.bytes, r.stateVector.ms, r.ours.bytes, r.ours.ms,
    r.ours.ms / r.flat.ms, r.ours.bytes / r.stateVector.bytes]),
  notes: [
    `median of ${repeats} runs; bytes include Trystero's 103 bytes of framing; "ours" includes the merges done while the updates arrive`,
    'state-vector encoding carries the whole delete set of the document in every message'
  ]
})
