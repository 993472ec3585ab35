/**
 * Scenario 6: heap and RSS of each peer process at rest (after a GC), every peer holding the
 * B4-sized document, in rooms of 2 and of 10 peers.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ours, yWebrtc, type Contender } from '../harness/contenders.js'
import { startSignaling } from '../harness/signaling.js'
import type { BenchDocument } from '../harness/documents.js'
import { join, staggerMs, waitSynced, withRoom } from '../harness/rooms.js'
import { failureNotes, median, ratio, reason, type Table } from '../support/report.js'
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
  failureReasons: string[]
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
    } catch (error) {
      return { contender: contender.label, peers: count, heapMB: null, rssMB: null, failureReasons: [reason(error)] }
    }
    const mb = (bytes: number): number => bytes / 1024 / 1024
    return { contender: contender.label, peers: count, heapMB: mb(median(usage.map((u) => u.heapUsed))), rssMB: mb(median(usage.map((u) => u.rss))), failureReasons: [] }
  })

export interface HeapStages {
  subject: 'trystero-yjs' | 'trystero-room' | 'y-webrtc'
  stages: Array<{ stage: string, heapMB: number }>
}

const heapStagesScript = fileURLToPath(new URL('../harness/heap-stages-process.ts', import.meta.url))
const run = promisify(execFile)

/** Heap step by step in one fresh process per subject, alone in its room (see heap-stages-process.ts). */
export const runHeapStages = async (document: BenchDocument): Promise<HeapStages[]> => {
  const result: HeapStages[] = []
  for (const subject of ['trystero-yjs', 'trystero-room', 'y-webrtc'] as const) {
    const signaling = await startSignaling(subject === 'y-webrtc' ? 'y-webrtc' : 'trystero-yjs')
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', '--expose-gc', heapStagesScript, signaling.url, document.file, subject], { timeout: 60_000 })
      result.push({ subject, stages: JSON.parse(stdout) as HeapStages['stages'] })
    } finally {
      await signaling.close()
    }
  }
  return result
}

export const heapStagesTable = (rows: HeapStages[], document: BenchDocument): Table => {
  const labels = rows[0]?.stages.map((s) => s.stage) ?? []
  const cell = (row: HeapStages | undefined, i: number): string => {
    const stage = row?.stages[i]
    if (stage === undefined) return '—'
    const previous = i === 0 ? undefined : row!.stages[i - 1]
    return previous === undefined ? stage.heapMB.toFixed(1) : `${stage.heapMB.toFixed(1)} (+${(stage.heapMB - previous.heapMB).toFixed(1)})`
  }
  const by = (subject: HeapStages['subject']): HeapStages | undefined => rows.find((r) => r.subject === subject)
  return {
    title: `Where the heap goes: one process, ${document.name} loaded, joining a room alone (MB after forced GCs; step in brackets)`,
    columns: ['step', 'trystero-yjs', 'bare Trystero room, no provider', 'y-webrtc'],
    rows: labels.map((label, i) => [label, cell(by('trystero-yjs'), i), cell(by('trystero-room'), i), cell(by('y-webrtc'), i)]),
    notes: ['the bare Trystero room runs the same code load as ours (the provider is imported, not used) and joins with the same options, so the last row compares our provider with Trystero alone',
      'joining alone, Trystero pre-creates a pool of offers (20 RTCPeerConnections in @trystero-p2p/core\'s offer-pool) and opens its MQTT client; y-webrtc opens a WebSocket and creates connections only when peers appear']
  }
}

export const memoryTable = (rows: MemoryRow[], document: BenchDocument): Table => ({
  title: `Memory per peer process at rest, every peer holding ${document.name} (${document.stateBytes.toLocaleString('en-US')} B of state); median over peers (MB)`,
  columns: ['peers', 'heap, ours', 'heap, y-webrtc', 'ours / y-webrtc', 'RSS, ours', 'RSS, y-webrtc', 'ours / y-webrtc'],
  rows: pairs(rows).map(([a, b]) => [a.peers, a.heapMB?.toFixed(1) ?? 'failed', b.heapMB?.toFixed(1) ?? 'failed', ratio(a.heapMB, b.heapMB),
    a.rssMB?.toFixed(1) ?? 'failed', b.rssMB?.toFixed(1) ?? 'failed', ratio(a.rssMB, b.rssMB)]),
  notes: ['each process also holds its WebRTC stack (node-datachannel for both; Trystero pre-creates a pool of offers) and the same Node runtime; ours is loaded from dist/, as users get it',
    'at rest: 3 readings 200 ms apart, each after two forced GCs; the lowest heap reading is kept',
    ...failureNotes(rows)]
})
