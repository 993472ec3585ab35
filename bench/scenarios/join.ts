/**
 * Scenario 1, join: N peers created together, one holding a small document; time from provider
 * creation to synced with the N−1 others, at every peer.
 */
import { ours, yWebrtc, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import { join, waitSynced, withRoom } from '../harness/rooms.js'
import { formatSpread, ratio, spread, type Spread, type Table } from '../support/report.js'

export interface JoinOptions {
  sizes: number[]
  runs: number
  /** The small document, held by one peer; `null` for the empty case. */
  small: BenchDocument
  timeoutMs: number
}

export interface JoinRow {
  contender: string
  peers: number
  document: 'empty' | 'small'
  /** ms from provider creation to synced, over every peer of every run that synced. */
  syncedMs: Spread | null
  failures: number
  runs: number
}

export const runJoin = async (options: JoinOptions): Promise<JoinRow[]> => {
  const rows: JoinRow[] = []
  for (const peers of options.sizes) {
    for (const document of ['empty', 'small'] as const) {
      for (const contender of [ours, yWebrtc]) rows.push(await measure(contender, peers, document, options))
    }
  }
  return rows
}

const measure = async (contender: Contender, count: number, document: 'empty' | 'small', options: JoinOptions): Promise<JoinRow> => {
  const times: number[] = []
  let failures = 0
  for (let run = 0; run < options.runs; run++) {
    await withRoom(contender, async (room) => {
      const [holder] = await room.spawn(1, document === 'small' ? options.small.file : undefined)
      const others = await room.spawn(count - 1)
      const peers = [holder!, ...others]
      await join(peers)
      try {
        for (const s of await waitSynced(peers, count - 1, options.timeoutMs)) times.push(s.at - s.createdAt)
      } catch {
        failures++
      }
    })
  }
  return { contender: contender.label, peers: count, document, syncedMs: spread(times), failures, runs: options.runs }
}

export const joinTable = (rows: JoinRow[]): Table => ({
  title: 'Join: provider created → synced with every other peer (ms, median and min–max over all peers and runs)',
  columns: ['peers', 'document', 'trystero-yjs', 'y-webrtc', 'ours / y-webrtc (median)', 'failed runs (ours / y-webrtc)'],
  rows: pairs(rows).map(([a, b]) => [a.peers, a.document, formatSpread(a.syncedMs), formatSpread(b.syncedMs),
    ratio(a.syncedMs?.median, b.syncedMs?.median), `${a.failures}/${a.runs} / ${b.failures}/${b.runs}`]),
  notes: ['one peer holds the document ("small": 10 KB of text); all are created at once', `${yWebrtc.label} vs ${ours.label}: see bench/harness/contenders.ts`]
})

/** Rows come ours, theirs, ours, theirs… */
export const pairs = <T>(rows: T[]): Array<[T, T]> => {
  const result: Array<[T, T]> = []
  for (let i = 0; i + 1 < rows.length; i += 2) result.push([rows[i]!, rows[i + 1]!])
  return result
}
