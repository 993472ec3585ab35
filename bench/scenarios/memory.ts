/**
 * Scenario 6: heap and RSS of each peer process at rest (after a GC), every peer holding the
 * B4-sized document, in rooms of 2 and of 10 peers.
 */
import { ours, yWebrtc, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import { join, staggerMs, waitSynced, withRoom } from '../harness/rooms.js'
import { median, ratio, type Table } from '../support/report.js'
import { pairs } from './join.js'

export interface MemoryOptions {
  sizes: number[]
  document: BenchDocument
  timeoutMs: number
}

export interface MemoryRow {
  contender: string
  peers: number
  heapMB: number | null
  rssMB: number | null
}

export const runMemory = async (options: MemoryOptions): Promise<MemoryRow[]> => {
  const rows: MemoryRow[] = []
  for (const peers of options.sizes) for (const contender of [ours, yWebrtc]) rows.push(await measure(contender, peers, options))
  return rows
}

const measure = async (contender: Contender, count: number, options: MemoryOptions): Promise<MemoryRow> =>
  await withRoom(contender, async (room) => {
    let usage: NodeJS.MemoryUsage[]
    try {
      const peers = await room.spawn(count, options.document.file)
      await join(peers, staggerMs)
      await waitSynced(peers, count - 1, options.timeoutMs)
      usage = await Promise.all(peers.map(async (p) => await p.request<NodeJS.MemoryUsage>({ type: 'memory' })))
    } catch {
      return { contender: contender.label, peers: count, heapMB: null, rssMB: null }
    }
    const mb = (bytes: number): number => bytes / 1024 / 1024
    return { contender: contender.label, peers: count, heapMB: mb(median(usage.map((u) => u.heapUsed))), rssMB: mb(median(usage.map((u) => u.rss))) }
  })

export const memoryTable = (rows: MemoryRow[], document: BenchDocument): Table => ({
  title: `Memory per peer process at rest, every peer holding ${document.name} (${document.stateBytes.toLocaleString('en-US')} B of state); median over peers (MB)`,
  columns: ['peers', 'heap, ours', 'heap, y-webrtc', 'ours / y-webrtc', 'RSS, ours', 'RSS, y-webrtc', 'ours / y-webrtc'],
  rows: pairs(rows).map(([a, b]) => [a.peers, a.heapMB?.toFixed(1) ?? 'failed', b.heapMB?.toFixed(1) ?? 'failed', ratio(a.heapMB, b.heapMB),
    a.rssMB?.toFixed(1) ?? 'failed', b.rssMB?.toFixed(1) ?? 'failed', ratio(a.rssMB, b.rssMB)]),
  notes: ['each process also holds its WebRTC stack (node-datachannel for both; Trystero pre-creates a pool of offers) and the same Node runtime; ours is loaded from dist/, as users get it',
    'at rest: 3 readings 200 ms apart, each after two forced GCs; the lowest heap reading is kept']
})
