/**
 * Where the time of an initial sync goes (issue 13, item 5): the size ladder's sync (a fresh peer
 * joins a holder of the document), with both peer processes recording a timeline
 * (bench/harness/timeline.ts), cut into phases from the fresh peer's data channel opening to the
 * whole document being in. Ours with compact sync (the default) and without (compactSync: false,
 * what it sends a version 1 peer).
 *
 * Also measured here, for the floor: the two costs that no provider answering a request can avoid
 * and the size ladder's floor leaves out — the holder encoding its document the first time in its
 * process (cold), and one small message from the fresh peer to the holder (the request: a state
 * vector) — and, for any Trystero-based provider, Trystero's own handshake after the channel opens.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { holderIdle, holderIdleMs, ours, oursNoSnapshot, oursV1, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import { coldApplyMs, rawTransferMs } from '../harness/floors.js'
import { join, withRoom, type SyncedAt } from '../harness/rooms.js'
import type { TimelineEvent } from '../harness/timeline.js'
import { median, type Table } from '../support/report.js'

export const phaseNames = [
  'open → Trystero\'s handshake done (our HELLO sent)',
  'HELLO sent → request sent (V1: the holder\'s HELLO, then step 1; compact: the HELLO is it)',
  'request on the wire (fresh → holder)',
  'holder: request in → first step 2 chunk sent (encode, compress if compact, frame; or the snapshot kept)',
  'holder: first → last chunk handed to the channel',
  'wire: last chunk sent → received',
  'fresh: last chunk → handler (Trystero reassembly)',
  'fresh: handler → transaction (decode, inflate if compact, check)',
  'fresh: Y.applyUpdate integration',
  'fresh: observers, transaction end'
] as const

/** Not part of the total (the text is there): the main thread's work after it. */
const afterName = 'fresh: after the transaction until Yjs is done (it encodes the update for update listeners, if any)'

export type Phases = Record<typeof phaseNames[number] | typeof afterName, number> & { total: number, measured: number }

export interface PhaseRow {
  document: BenchDocument
  contender: string
  runs: Phases[]
  /** Bytes the holder's data channels sent from the fresh peer's join to the end, median. */
  holderBytes: number
}

export interface PhaseFloor {
  document: BenchDocument
  transferMs: number
  applyMs: number
  /** The holder's first `Y.encodeStateAsUpdate` in its process. */
  coldEncodeMs: number
}

const after = (events: TimelineEvent[], at: number, test: (e: TimelineEvent) => boolean, what: string): TimelineEvent => {
  const found = events.find((e) => e.at >= at && test(e))
  if (found === undefined) throw new Error(`timeline: no ${what} after ${at}`)
  return found
}
const isDoc = (e: TimelineEvent): boolean => e.what?.startsWith('ty:d:') === true

/**
 * The request is the fresh peer's step 1, or with compact sync its HELLO, whose state vector the
 * holder answers (PROTOCOL.md §3.3).
 */
const phasesOf = (fresh: TimelineEvent[], holder: TimelineEvent[], done: SyncedAt, compact: boolean): Phases => {
  const open = fresh.find((e) => e.kind === 'open')!.at
  const helloSent = after(fresh, open, (e) => e.kind === 'send' && e.what === 'ty:room', 'HELLO').at
  const requestSent = compact ? helloSent : after(fresh, open, (e) => e.kind === 'send' && isDoc(e) && e.message === 'step1', 'step 1 sent').at
  const requestIn = compact
    ? after(holder, requestSent - 5, (e) => e.kind === 'recv' && e.what === 'ty:room', 'HELLO received').at
    : after(holder, requestSent - 5, (e) => e.kind === 'recv' && isDoc(e) && e.message === 'step1', 'step 1 received').at
  const firstOut = after(holder, requestIn, (e) => e.kind === 'send' && isDoc(e) && e.message === 'step2', 'step 2 sent')
  const lastOut = after(holder, firstOut.at, (e) => e.kind === 'send' && isDoc(e) && e.last === true, 'last chunk sent').at
  const firstIn = after(fresh, firstOut.at - 5, (e) => e.kind === 'recv' && isDoc(e) && e.message === 'step2', 'step 2 received').at
  const lastIn = after(fresh, firstIn, (e) => e.kind === 'recv' && isDoc(e) && e.last === true, 'last chunk received').at
  const freshHandler = after(fresh, lastIn, (e) => e.kind === 'handler-start' && isDoc(e), 'fresh handler').at
  const txStart = after(fresh, freshHandler, (e) => e.kind === 'tx-start', 'transaction').at
  const integrated = after(fresh, txStart, (e) => e.kind === 'tx-integrated', 'integration').at
  const txEnd = after(fresh, integrated, (e) => e.kind === 'tx-end', 'transaction end').at
  const cleanupEnd = after(fresh, txEnd, (e) => e.kind === 'tx-cleanup-end', 'transaction cleanup end').at
  const marks = [open, helloSent, requestSent, requestIn, firstOut.at, lastOut, lastIn, freshHandler, txStart, integrated, txEnd]
  const phases = Object.fromEntries(phaseNames.map((name, i) => [name, marks[i + 1]! - marks[i]!])) as Phases
  phases[afterName] = cleanupEnd - txEnd
  phases.total = txEnd - open
  phases.measured = done.at - (done.channelOpenAt ?? done.createdAt)
  return phases
}

const run = promisify(execFile)
const coldEncodeScript = fileURLToPath(new URL('../harness/cold-encode-process.ts', import.meta.url))

/** Median ms of a holder's first `Y.encodeStateAsUpdate` of `file` in a fresh process (after loading it). */
export const coldEncodeMs = async (file: string, repeats = 3): Promise<number> => {
  const times: number[] = []
  for (let i = 0; i < repeats; i++) times.push(Number((await run(process.execPath, ['--import', 'tsx', coldEncodeScript, file])).stdout))
  return median(times)
}

export const measureFloor = async (document: BenchDocument): Promise<PhaseFloor> => ({
  document,
  transferMs: await rawTransferMs(readFileSync(document.file).byteLength),
  applyMs: await coldApplyMs(document.file),
  coldEncodeMs: await coldEncodeMs(document.file)
})

export const runSyncPhases = async (options: { documents: BenchDocument[], runs: number, contenders?: Contender[] }): Promise<PhaseRow[]> => {
  const rows: PhaseRow[] = []
  for (const document of options.documents) {
    const contenders = options.contenders ?? [ours, oursV1]
    const measured = contenders.map((): Phases[] => [])
    const bytes = contenders.map((): number[] => [])
    // Runs alternate between contenders, so that a load that comes and goes (a shared machine)
    // falls on both alike.
    for (let i = 0; i < options.runs; i++) {
      for (const [c, contender] of contenders.entries()) {
        await withRoom(contender, async (room) => {
          const [holder] = await room.spawn(1, document.file, { timeline: true })
          await join([holder!])
          const joinedAt = performance.now()
          await holder!.request({ type: 'reset-counters' })
          const [fresh] = await room.spawn(1, undefined, { timeline: true })
          await holderIdle(joinedAt)
          await join([fresh!])
          const done = await fresh!.request<SyncedAt>({ type: 'wait-length', length: document.textLength, timeoutMs: 30_000 })
          const [freshTimeline, holderTimeline, counters] = await Promise.all([
            fresh!.request<TimelineEvent[]>({ type: 'timeline' }),
            holder!.request<TimelineEvent[]>({ type: 'timeline' }),
            holder!.request<{ dataChannel: { bytes: number } }>({ type: 'counters' })
          ])
          // A build of another commit (today's) predates compact sync: it asks with step 1.
          measured[c]!.push(phasesOf(freshTimeline, holderTimeline, done, contender.compactSync !== false && contender.build === undefined))
          bytes[c]!.push(counters.dataChannel.bytes)
        })
      }
    }
    for (const [c, contender] of contenders.entries()) rows.push({ document, contender: contender.label, runs: measured[c]!, holderBytes: median(bytes[c]!) })
  }
  return rows
}

export const syncPhasesTable = (rows: PhaseRow[], floors: PhaseFloor[], runs: number): Table => {
  const floorOf = (row: PhaseRow): PhaseFloor => floors.find((f) => f.document.name === row.document.name)!
  const m = (row: PhaseRow, f: (p: Phases) => number): number => median(row.runs.map(f))
  return {
    title: `Initial sync, phase by phase (ms, median of ${runs}): fresh peer's channel open → whole document in`,
    columns: ['phase', ...rows.map((r) => `${r.document.name}, ${r.contender === ours.label ? 'compact' : r.contender === oursV1.label ? 'V1 (compactSync: false)' : r.contender === oursNoSnapshot.label ? 'compact, stateSnapshot: false' : r.contender.replace('trystero-yjs ', '')}`)],
    rows: [
      ...phaseNames.map((name) => [name, ...rows.map((r) => m(r, (p) => p[name]).toFixed(1))]),
      ['total', ...rows.map((r) => m(r, (p) => p.total).toFixed(1))],
      [afterName, ...rows.map((r) => m(r, (p) => p[afterName]).toFixed(1))],
      ['as the size ladder measures it', ...rows.map((r) => m(r, (p) => p.measured).toFixed(1))],
      ['data-channel bytes the holder sent', ...rows.map((r) => r.holderBytes.toLocaleString('en-US'))],
      ['floor (ladder): raw transfer of the V1 state + cold apply', ...rows.map((r) => { const f = floorOf(r); return `${(f.transferMs + f.applyMs).toFixed(1)} (${f.transferMs.toFixed(1)} + ${f.applyMs.toFixed(1)})` })],
      ['ours / floor', ...rows.map((r) => { const f = floorOf(r); return (m(r, (p) => p.measured) / (f.transferMs + f.applyMs)).toFixed(2) })],
      ['beside the floor: holder\'s cold encode (saved by a snapshot) + request one way (+ Trystero\'s handshake)', ...rows.map((r) => {
        const f = floorOf(r)
        const request = m(r, (p) => p['request on the wire (fresh → holder)'])
        const handshake = m(r, (p) => p['open → Trystero\'s handshake done (our HELLO sent)'])
        return `${(f.coldEncodeMs + request).toFixed(1)} (+ ${handshake.toFixed(1)})`
      })],
      ['ours / (floor + unavoidable, handshake included)', ...rows.map((r) => {
        const f = floorOf(r)
        const extra = f.coldEncodeMs + m(r, (p) => p['request on the wire (fresh → holder)']) + m(r, (p) => p['open → Trystero\'s handshake done (our HELLO sent)'])
        return (m(r, (p) => p.measured) / (f.transferMs + f.applyMs + extra)).toFixed(2)
      })]
    ],
    notes: [
      'phases come from timelines recorded in both peer processes (one machine, one clock); "handler" is the provider\'s action handler, timed around Trystero\'s call; the holder\'s encoding runs in the step 1 handler, the fresh peer\'s check and apply in the step 2 handler (compact: after the inflate it starts)',
      'floor: a bare node-datachannel channel moving the V1 state in 16 KiB chunks plus the first Y.applyUpdate in a fresh process (bench/harness/floors.ts); it leaves out what every provider that answers a request pays: the holder encoding its state (cold: its first encode in its process) and the request reaching it; a Trystero-based one also waits for Trystero\'s handshake after the channel opens',
      `the holder is left alone ${holderIdleMs} ms after it joined before the fresh peer joins: long enough for it to keep its state encoded (stateSnapshot, PROTOCOL.md §3.3), whose answer then needs no encoding; "stateSnapshot: false" is a holder that encodes on request, as every version did before`,
      'compact: Yjs V2 compressed with CompressionStream(\'deflate-raw\') (PROTOCOL.md §3.7); the generated documents (100 KB, 2 MB) repeat one sentence and compress ~300×; B4 is a real editing trace'
    ]
  }
}
