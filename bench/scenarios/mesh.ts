/**
 * Scenario 5: N peers started together, each writing one character; a run succeeds when every
 * peer is synced with the N−1 others and holds all N characters within the deadline.
 */
import { ours, yWebrtc, yWebrtcOnWrtc, type Contender } from '../harness/contenders.js'
import { join, waitSynced, withRoom, type SyncedAt } from '../harness/rooms.js'
import { formatSpread, spread, type Spread, type Table } from '../support/report.js'

export interface MeshOptions {
  /** Peers per room, and runs at that size. */
  sizes: Array<{ peers: number, runs: number }>
  deadlineMs: number
  /** Also run y-webrtc on @roamhq/wrtc (the baseline's stack) at sizes up to this many peers. */
  referenceUpToPeers: number
}

export interface MeshRow {
  contender: string
  peers: number
  succeeded: number
  runs: number
  /** ms from the first provider created to the last peer complete, successful runs. */
  completeMs: Spread | null
  /** Peer processes that died during the runs, and how (a contender's crash). */
  crashes: string[]
}

export const runMesh = async (options: MeshOptions): Promise<MeshRow[]> => {
  const rows: MeshRow[] = []
  for (const { peers, runs } of options.sizes) {
    const contenders = [ours, yWebrtc, ...(peers <= options.referenceUpToPeers ? [yWebrtcOnWrtc] : [])]
    for (const contender of contenders) rows.push(await measure(contender, peers, runs, options.deadlineMs))
  }
  return rows
}

const measure = async (contender: Contender, count: number, runs: number, deadlineMs: number): Promise<MeshRow> => {
  const times: number[] = []
  const crashes: string[] = []
  let succeeded = 0
  for (let run = 0; run < runs; run++) {
    await withRoom(contender, async (room) => {
      try {
        const peers = await room.spawn(count)
        await join(peers)
        await Promise.all(peers.map(async (p) => await p.request({ type: 'type', count: 1, intervalMs: 0 })))
        const synced = await waitSynced(peers, count - 1, deadlineMs)
        const complete = await Promise.all(peers.map(async (p) => await p.request<SyncedAt>({ type: 'wait-length', length: count, timeoutMs: deadlineMs })))
        const start = Math.min(...synced.map((s) => s.createdAt))
        const end = Math.max(...synced.map((s) => s.at), ...complete.map((c) => c.at))
        if (end - start <= deadlineMs) {
          succeeded++
          times.push(end - start)
        }
      } catch {}
      crashes.push(...room.peers.flatMap((p) => p.crashed === null ? [] : [p.crashed]))
    })
  }
  return { contender: contender.label, peers: count, succeeded, runs, completeMs: spread(times), crashes }
}

export const meshTable = (rows: MeshRow[], deadlineMs: number): Table => ({
  title: `Mesh formation: N peers started together, each writing one character; full mesh, synced and complete within ${deadlineMs / 1000} s`,
  columns: ['peers', 'contender', 'full mesh + content', 'time to complete (ms, successful runs)', 'peer processes crashed'],
  rows: rows.map((r) => [r.peers, r.contender, `${r.succeeded}/${r.runs}`, formatSpread(r.completeMs), r.crashes.length === 0 ? '0' : `${r.crashes.length} (${[...new Set(r.crashes)].join(', ')})`]),
  notes: ['started together: every peer is created in the same instant, the case where offer glare strikes',
    'a crashed peer is shown with the error it printed; its run fails']
})
