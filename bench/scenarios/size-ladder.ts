/**
 * Scenario 2 (with scenario 7, floors): a fresh peer joins a peer that holds a document of
 * 100 KB … 50 MB; time from the fresh peer's data channel opening to the whole text being there,
 * against the floor: a bare data channel moving the same bytes, plus applying them in-process.
 */
import { ours, yWebrtc, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import { applyUpdateMs, coldApplyMs, rawTransferMs } from '../harness/floors.js'
import { join, withRoom, type SyncedAt } from '../harness/rooms.js'
import { formatSpread, spread, type Spread, type Table } from '../support/report.js'
import { readFileSync } from 'node:fs'

export interface LadderOptions {
  documents: BenchDocument[]
  runs: number
  timeoutMs: number
}

export interface LadderRow {
  document: BenchDocument
  /** The floor is transfer + cold apply: each peer is a fresh process. Warm apply for reference. */
  floor: { transferMs: number, applyMs: number, warmApplyMs: number }
  results: Array<{ contender: string, ms: Spread | null, synced: number, attempted: number, note: string }>
}

export const runLadder = async (options: LadderOptions): Promise<LadderRow[]> => {
  const rows: LadderRow[] = []
  for (const document of options.documents) {
    const update = readFileSync(document.file)
    const floor = { transferMs: await rawTransferMs(update.byteLength), applyMs: await coldApplyMs(document.file), warmApplyMs: applyUpdateMs(update) }
    const results = []
    for (const contender of [ours, yWebrtc]) results.push(await measure(contender, document, options))
    rows.push({ document, floor, results })
  }
  return rows
}

const measure = async (contender: Contender, document: BenchDocument, options: LadderOptions): Promise<LadderRow['results'][number]> => {
  const times: number[] = []
  let attempted = 0
  let note = ''
  for (let run = 0; run < options.runs; run++) {
    attempted++
    const ok = await withRoom(contender, async (room) => {
      try {
        const [holder] = await room.spawn(1, document.file)
        await join([holder!])
        const [fresh] = await room.spawn(1)
        await join([fresh!])
        const done = await fresh!.request<SyncedAt>({ type: 'wait-length', length: document.textLength, timeoutMs: options.timeoutMs })
        times.push(done.at - (done.channelOpenAt ?? done.createdAt))
        return true
      } catch (error) {
        note = (error as Error).message
        return false
      }
    })
    // A size that fails does so every time (a message over 256 KiB closes y-webrtc's channel).
    if (!ok) break
  }
  return { contender: contender.label, ms: spread(times), synced: times.length, attempted, note }
}

export const ladderTable = (rows: LadderRow[]): Table => ({
  title: 'Initial sync size ladder: fresh peer, data channel open → whole text there (ms), against the floor',
  columns: ['document', 'state bytes', 'floor: transfer + cold apply (ms)', 'warm apply (ms)', 'trystero-yjs', 'ours / floor', 'y-webrtc', 'synced runs (ours / y-webrtc)'],
  rows: rows.map(({ document, floor, results: [a, b] }) => {
    const floorMs = floor.transferMs + floor.applyMs
    return [document.name, document.stateBytes, `${floorMs.toFixed(0)} (${floor.transferMs.toFixed(0)} + ${floor.applyMs.toFixed(0)})`, floor.warmApplyMs.toFixed(1),
      formatSpread(a!.ms), a!.ms === null ? '—' : (a!.ms.median / floorMs).toFixed(2),
      b!.ms === null ? 'failed' : formatSpread(b!.ms), `${a!.synced}/${a!.attempted} / ${b!.synced}/${b!.attempted}`]
  }),
  notes: [
    'floor: a bare node-datachannel data channel moving the same bytes in 16 KiB chunks (loopback, one process), plus the first Y.applyUpdate in a fresh process (a new peer applies cold); warm apply shown for reference',
    'ours includes a fixed cost of a few ms after the channel opens (Trystero\'s handshake, HELLO, step 1 → step 2): it dominates the floor of small documents',
    'a size y-webrtc fails is not retried: a message over 256 KiB closes its data channel every time',
    ...rows.filter((r) => r.document.source !== 'generated').map((r) => `${r.document.name}: ${r.document.source}`)
  ]
})
