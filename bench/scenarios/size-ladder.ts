/**
 * Scenario 2 (with scenario 7, floors): a fresh peer joins a peer that holds a document of
 * 100 KB … 50 MB; time from the fresh peer's data channel opening to the whole text being there,
 * against the floor: a bare data channel moving the same bytes, plus applying them in-process.
 * Ours with compact sync (the default), without it (compactSync: false: what a version 1 peer
 * gets), as it was before compact sync (a build of an earlier commit, when given), and y-webrtc;
 * with the bytes the holder's data channels sent.
 */
import { holderIdle, holderIdleMs, trysteroPush, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import { applyUpdateMs, coldApplyMs, rawTransferMs } from '../harness/floors.js'
import { join, withRoom, type SyncedAt } from '../harness/rooms.js'
import { formatSpread, median, spread, type Spread, type Table } from '../support/report.js'
import { readFileSync } from 'node:fs'

export interface LadderOptions {
  documents: BenchDocument[]
  runs: number
  timeoutMs: number
  /** In this order; the first is ours as the README reports it. */
  contenders: Contender[]
}

export interface LadderResult {
  contender: string
  ms: Spread | null
  /** Data-channel bytes the holder sent from the fresh peer's join to the end (median). */
  bytes: number | null
  synced: number
  attempted: number
  note: string
}

export interface LadderRow {
  document: BenchDocument
  /** The floor is transfer + cold apply: each peer is a fresh process. Warm apply for reference. */
  floor: { transferMs: number, applyMs: number, warmApplyMs: number }
  results: LadderResult[]
}

export const runLadder = async (options: LadderOptions): Promise<LadderRow[]> => {
  const rows: LadderRow[] = []
  for (const document of options.documents) {
    const update = readFileSync(document.file)
    const floor = { transferMs: await rawTransferMs(update.byteLength), applyMs: await coldApplyMs(document.file), warmApplyMs: applyUpdateMs(update) }
    const runs = options.contenders.map(() => ({ times: [] as number[], bytes: [] as number[], attempted: 0, note: '', failed: false }))
    // Runs alternate between contenders: a load that comes and goes falls on all alike.
    for (let i = 0; i < options.runs; i++) {
      for (const [c, contender] of options.contenders.entries()) {
        const r = runs[c]!
        // A size that fails does so every time (a message over 256 KiB closes y-webrtc's channel).
        if (r.failed) continue
        r.attempted++
        const ok = await measure(contender, document, options.timeoutMs, r)
        if (!ok) r.failed = true
      }
    }
    const results = options.contenders.map((contender, c) => {
      const r = runs[c]!
      return { contender: contender.label, ms: spread(r.times), bytes: r.bytes.length === 0 ? null : median(r.bytes), synced: r.times.length, attempted: r.attempted, note: r.note }
    })
    rows.push({ document, floor, results })
  }
  return rows
}

const measure = async (contender: Contender, document: BenchDocument, timeoutMs: number, into: { times: number[], bytes: number[], note: string }): Promise<boolean> =>
  await withRoom(contender, async (room) => {
    try {
      const [holder] = await room.spawn(1, document.file)
      await join([holder!])
      const joinedAt = performance.now()
      await holder!.request({ type: 'reset-counters' })
      const [fresh] = await room.spawn(1)
      await holderIdle(joinedAt)
      await join([fresh!])
      const done = await fresh!.request<SyncedAt>({ type: 'wait-length', length: document.textLength, timeoutMs })
      into.times.push(done.at - (done.channelOpenAt ?? done.createdAt))
      into.bytes.push((await holder!.request<{ dataChannel: { bytes: number } }>({ type: 'counters' })).dataChannel.bytes)
      return true
    } catch (error) {
      into.note = (error as Error).message
      return false
    }
  })

export const floorMs = (row: LadderRow): number => row.floor.transferMs + row.floor.applyMs

/** The floor on Trystero's median, when it ran and synced (`trysteroPush`). */
export const trysteroFloorMs = (row: LadderRow): number | null =>
  row.results.find((r) => r.contender === trysteroPush.label)?.ms?.median ?? null

const ratioToTrysteroFloor = (row: LadderRow): string => {
  const floor = trysteroFloorMs(row)
  const ours = row.results[0]?.ms?.median
  return floor === null || ours === undefined ? '—' : (ours / floor).toFixed(2)
}

export const ladderTable = (rows: LadderRow[]): Table => {
  const labels = rows[0]?.results.map((r) => r.contender) ?? []
  return {
    title: 'Initial sync size ladder: fresh peer, data channel open → whole text there (ms), against the floor; bytes the holder sent',
    columns: ['document', 'state bytes (V1)', 'floor: transfer + cold apply (ms)', 'warm apply (ms)',
      ...labels.flatMap((label, i) => i === 0 ? [label, 'ours / floor', 'bytes sent'] : label.startsWith('trystero-yjs') ? [label, '/ floor', 'bytes sent'] : [label, 'bytes sent']),
      ...(labels.includes(trysteroPush.label) ? ['ours / floor on Trystero'] : []),
      'synced runs'],
    rows: rows.map((row) => {
      const f = floorMs(row)
      return [row.document.name, row.document.stateBytes, `${f.toFixed(0)} (${row.floor.transferMs.toFixed(0)} + ${row.floor.applyMs.toFixed(0)})`, row.floor.warmApplyMs.toFixed(1),
        ...row.results.flatMap((r) => [
          r.ms === null ? 'failed' : formatSpread(r.ms),
          ...(r.contender.startsWith('trystero-yjs') ? [r.ms === null ? '—' : (r.ms.median / f).toFixed(2)] : []),
          r.bytes === null ? '—' : r.bytes.toLocaleString('en-US')
        ]),
        ...(labels.includes(trysteroPush.label) ? [ratioToTrysteroFloor(row)] : []),
        row.results.map((r) => `${r.synced}/${r.attempted}`).join(' / ')]
    }),
    notes: [
      'floor: a bare node-datachannel data channel moving the V1 state in 16 KiB chunks (loopback, one process), plus the first Y.applyUpdate in a fresh process (a new peer applies cold); warm apply shown for reference',
      'bytes sent: everything the holder\'s data channels sent from the fresh peer\'s join until the text was there (Trystero\'s framing, HELLO, step 1, step 2)',
      'ours includes a fixed cost of a few ms after the channel opens (Trystero\'s handshake, HELLO, the request → step 2): it dominates the floor of small documents; bench/results/sync-phases.md cuts it into phases',
      'compact sync (PROTOCOL.md §3.7): Yjs V2 compressed with CompressionStream(\'deflate-raw\'); the generated documents repeat one sentence and compress ~300×, B4 (a real editing trace) 4.5×',
      `the holder is left alone ${holderIdleMs} ms after joining before the fresh peer joins (as a page is while its link is shared): trystero-yjs keeps its state encoded by then (stateSnapshot, PROTOCOL.md §3.3); "stateSnapshot: false" encodes it when asked, as before`,
      `${trysteroPush.label}: no provider; the holder's V1 state, encoded before anyone joins, is sent on one Trystero action the moment Trystero reports the fresh peer (its handshake done), and applied there unchecked: Trystero's handshake after the channel opens, one trip, a cold apply — what any provider on Trystero spends at least (and without a request, a check, or compression)`,
      'runs alternate between contenders; a size y-webrtc fails is not retried: a message over 256 KiB closes its data channel every time',
      ...rows.filter((r) => r.document.source !== 'generated').map((r) => `${r.document.name}: ${r.document.source}`)
    ]
  }
}
