/**
 * The keeper at scale: one `trystero-yjs-keeper` process (the built command) keeping many rooms,
 * each holding the B4-sized document; its memory, how long a room takes to load, and how long a
 * fresh joiner (a peer process, alone with the keeper) waits for the whole document — from a
 * room in memory, and from one unloaded and loaded again on demand. And the store on the B4
 * trace: its size after replaying every edit, after compaction, against the document's own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import * as Y from 'yjs'
import { RoomStore, roomStorePath } from '../../src/node/keeper/room-store.js'
import { StoredDoc, defaultCompaction, type CompactionPolicy } from '../../src/node/keeper/stored-doc.js'
import { KeeperProcess } from '../../test/support/keeper-process.js'
import type { BenchDocument } from '../harness/documents.js'
import { PeerHandle } from '../harness/peer-handle.js'
import { startSignaling } from '../harness/signaling.js'
import { absoluteNow } from '../harness/protocol.js'
import { readSequentialTrace, replaySequentialTrace } from '../support/editing-traces.js'
import { reason, spread, type Spread, type Table } from '../support/report.js'

export interface KeeperBenchOptions {
  rooms: number
  /** Fresh joiners per phase (room in memory, room unloaded), one after the other, each in another room. */
  joiners: number
  document: BenchDocument
  timeoutMs: number
  /** Measure the store on the B4 trace (three replays of it, ~15 s). Default true. */
  compaction?: boolean
}

export interface JoinSample {
  room: string
  /** Provider created → the whole document in the joiner's Y.Text. */
  ms: number | null
  /** Provider created → its first data channel open (the Trystero join and WebRTC handshake). */
  channelMs: number | null
  /** The keeper's own load of the room, when it loaded it for this joiner. */
  keeperLoadMs: number | null
  failure: string | null
}

export interface KeeperPhase {
  /** Process start → `keeping N rooms`. */
  readyMs: number
  loadMs: Spread | null
  /** Resident set after every room loaded, and its peak (VmHWM) so far; MB. */
  rssMB: number | null
  peakRssMB: number | null
  /** Resident set once every room was unloaded (the unloading phase only). */
  rssUnloadedMB: number | null
  joins: JoinSample[]
  /** What the keeper printed that was not one of its JSON lines (a Node warning, a crash). */
  strayOutput: string[]
}

export interface CompactionResult {
  source: string
  /** Transactions of the trace: one stored update each. */
  updates: number
  documentV1Bytes: number
  documentV2Bytes: number
  afterReplay: { rows: number, updateBytes: number, fileBytes: number }
  afterCompaction: { rows: number, updateBytes: number, fileBytes: number }
  compactionMs: number
  /** With the default policy (compaction as the rows outgrow the document): the file at the end, and its largest sampled size. */
  defaultPolicy: { fileBytes: number, peakFileBytes: number, rows: number }
  /** Replay with every update stored, minus replay alone, per update. */
  storeMicrosPerUpdate: number
}

export interface KeeperBenchResult {
  rooms: number
  document: { name: string, stateBytes: number, textLength: number, source: string }
  resident: KeeperPhase | null
  unloading: KeeperPhase | null
  failures: string[]
  compaction: CompactionResult | null
}

const appId = 'trystero-yjs-bench'
const roomName = (i: number): string => `keeper-bench-${i}`

/** Linux: the process's resident set and its peak, in MB. */
const residentMB = (pid: number): { rss: number, peak: number } | null => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
  } catch {
    return null
  }
}

export const runKeeperBench = async (options: KeeperBenchOptions): Promise<KeeperBenchResult> => {
  const dir = mkdtempSync(join(tmpdir(), 'trystero-yjs-keeper-bench-'))
  const failures: string[] = []
  let resident: KeeperPhase | null = null
  let unloading: KeeperPhase | null = null
  try {
    const state = readFileSync(options.document.file)
    for (let i = 0; i < options.rooms; i++) {
      const store = RoomStore.open(Database, roomStorePath(dir, roomName(i)), roomName(i))
      store.append(state)
      store.close()
    }
    const signaling = await startSignaling('trystero-yjs')
    try {
      const phase = async (unloadAfter: string): Promise<KeeperPhase | null> => {
        try {
          return await measurePhase(dir, signaling.url, unloadAfter, options)
        } catch (error) {
          failures.push(`unload after ${unloadAfter} s: ${reason(error)}`)
          return null
        }
      }
      resident = await phase('0')
      unloading = await phase('1')
    } finally {
      await signaling.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return {
    rooms: options.rooms,
    document: { name: options.document.name, stateBytes: options.document.stateBytes, textLength: options.document.textLength, source: options.document.source },
    resident,
    unloading,
    failures,
    compaction: options.compaction === false ? null : await measureCompaction()
  }
}

/** One keeper process: start, every room loaded, (every room unloaded,) fresh joiners. */
const measurePhase = async (dir: string, signalingUrl: string, unloadAfter: string, options: KeeperBenchOptions): Promise<KeeperPhase> => {
  const started = absoluteNow()
  const keeper = KeeperProcess.start(['--dir', dir, '--app-id', appId, '--strategy', 'mqtt', '--relay', signalingUrl, '--bind', '127.0.0.1',
    '--unload-after', unloadAfter, ...Array.from({ length: options.rooms }, (_, i) => ['--room', roomName(i)]).flat()])
  try {
    await keeper.waitFor('keeping every room', (l) => l.event === 'ready', { deadlineMs: 600_000 })
    const readyMs = absoluteNow() - started
    const loadMs = spread(keeper.events('load').map((l) => Number(l.ms)))
    const memory = residentMB(keeper.child.pid!)
    let rssUnloadedMB: number | null = null
    if (unloadAfter !== '0') {
      await keeper.waitFor('every room unloaded', () => keeper.events('unload').length >= options.rooms, { deadlineMs: 120_000 })
      rssUnloadedMB = residentMB(keeper.child.pid!)?.rss ?? null
    }
    const joins: JoinSample[] = []
    for (let j = 0; j < options.joiners; j++) {
      const room = roomName(Math.floor((j * options.rooms) / Math.max(1, options.joiners)))
      joins.push(await freshJoiner(keeper, signalingUrl, room, options))
    }
    return { readyMs, loadMs, rssMB: memory?.rss ?? null, peakRssMB: memory?.peak ?? null, rssUnloadedMB, joins, strayOutput: keeper.otherOutput.slice(0, 5) }
  } finally {
    await keeper.stop('SIGTERM')
  }
}

const freshJoiner = async (keeper: KeeperProcess, signalingUrl: string, room: string, options: KeeperBenchOptions): Promise<JoinSample> => {
  const linesBefore = keeper.lines.length
  let peer: PeerHandle | null = null
  try {
    peer = await PeerHandle.spawn({ provider: 'trystero-yjs', rtc: 'node-datachannel', signalingUrl, room })
    const { createdAt } = await peer.request<{ createdAt: number }>({ type: 'join' })
    const { at, channelOpenAt } = await peer.request<{ at: number, channelOpenAt: number | null }>({ type: 'wait-length', length: options.document.textLength, timeoutMs: options.timeoutMs })
    const load = keeper.lines.slice(linesBefore).find((l) => l.event === 'load' && l.room === room)
    return { room, ms: at - createdAt, channelMs: channelOpenAt === null ? null : channelOpenAt - createdAt, keeperLoadMs: load === undefined ? null : Number(load.ms), failure: null }
  } catch (error) {
    return { room, ms: null, channelMs: null, keeperLoadMs: null, failure: reason(error) }
  } finally {
    await peer?.request({ type: 'leave' }).catch(() => undefined)
    await peer?.close()
    // The keeper hears the leave before the next joiner comes: each joiner is alone with it.
    await keeper.waitFor('the joiner leaving', (l) => l.event === 'leave' && l.room === room, { after: linesBefore, deadlineMs: 40_000 }).catch(() => undefined)
  }
}

/** The B4 trace, edit by edit, into a store; `null` when the trace is absent. */
const measureCompaction = async (): Promise<CompactionResult | null> => {
  const trace = readSequentialTrace('automerge-paper')
  if (trace === null) return null
  const dir = mkdtempSync(join(tmpdir(), 'trystero-yjs-keeper-compaction-'))
  const report = (kind: string, error: Error): void => { throw new Error(`${kind}: ${error.message}`) }
  const open = (name: string, policy: CompactionPolicy): StoredDoc =>
    StoredDoc.load(RoomStore.open(Database, join(dir, `${name}.sqlite3`), name), policy, report).stored
  try {
    const plainStarted = performance.now()
    replaySequentialTrace(trace, new Y.Doc())
    const plainMs = performance.now() - plainStarted

    const never = open('never', { minBytes: Infinity, maxUpdates: Infinity })
    const replayStarted = performance.now()
    replaySequentialTrace(trace, never.doc)
    const replayMs = performance.now() - replayStarted
    const afterReplay = never.stats()
    const compactionStarted = performance.now()
    never.compactNow()
    const compactionMs = performance.now() - compactionStarted
    const afterCompaction = never.stats()
    const documentV1Bytes = Y.encodeStateAsUpdate(never.doc).byteLength
    const documentV2Bytes = Y.encodeStateAsUpdateV2(never.doc).byteLength
    never.close()

    // The keeper's own policy, which compacts between ticks: the replay yields every 500 edits,
    // as edits arriving from peers would leave the event loop free.
    const auto = open('default', defaultCompaction)
    let peakFileBytes = 0
    for (let from = 0; from < trace.txns.length; from += 500) {
      replaySequentialTrace({ ...trace, txns: trace.txns.slice(from, from + 500) }, auto.doc)
      peakFileBytes = Math.max(peakFileBytes, auto.stats().fileBytes)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const final = auto.stats()
    auto.close()
    return {
      source: 'trace automerge-paper (B4)',
      updates: trace.txns.length,
      documentV1Bytes,
      documentV2Bytes,
      afterReplay: { rows: afterReplay.updates, updateBytes: afterReplay.updateBytes, fileBytes: afterReplay.fileBytes },
      afterCompaction: { rows: afterCompaction.updates, updateBytes: afterCompaction.updateBytes, fileBytes: afterCompaction.fileBytes },
      compactionMs,
      defaultPolicy: { fileBytes: final.fileBytes, peakFileBytes: Math.max(peakFileBytes, final.fileBytes), rows: final.updates },
      storeMicrosPerUpdate: ((replayMs - plainMs) * 1000) / trace.txns.length
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const ms = (s: Spread | null): string => s === null ? '—' : `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`
const mb = (n: number | null): string => n === null ? '—' : n.toFixed(0)
const kb = (bytes: number): string => `${(bytes / 1000).toLocaleString('en-US', { maximumFractionDigits: 1 })} KB`

const joinCell = (joins: JoinSample[] | undefined): string => {
  if (joins === undefined || joins.length === 0) return '—'
  const done = joins.flatMap((j) => j.ms === null ? [] : [j.ms])
  return `${ms(spread(done))}, ${done.length}/${joins.length}`
}

const channelCell = (joins: JoinSample[] | undefined): string => ms(spread(joins?.flatMap((j) => j.channelMs === null ? [] : [j.channelMs]) ?? []))

export const keeperTable = (result: KeeperBenchResult): Table => {
  const { resident, unloading } = result
  const reloads = unloading?.joins.flatMap((j) => j.keeperLoadMs === null ? [] : [j.keeperLoadMs]) ?? []
  return {
    title: `Keeper: ${result.rooms} rooms, each holding ${result.document.name} (${result.document.stateBytes.toLocaleString('en-US')} B of state, ${result.document.source}), one process`,
    columns: ['measure', 'value'],
    rows: [
      ['start → "keeping N rooms" (every store read, every room joined)', resident === null ? '—' : `${(resident.readyMs / 1000).toFixed(1)} s`],
      ['load one room from its store, ms: median (min–max)', ms(resident?.loadMs ?? null)],
      ['RSS with every room loaded, MB (peak so far)', resident === null ? '—' : `${mb(resident.rssMB)} (${mb(resident.peakRssMB)})`],
      ['RSS once every room is unloaded, MB', mb(unloading?.rssUnloadedMB ?? null)],
      ['fresh joiner, room in memory: provider created → whole document, ms: median (min–max), runs', joinCell(resident?.joins)],
      ['…of which before its first data channel opened, ms', channelCell(resident?.joins)],
      ['fresh joiner, room unloaded (loaded for it): provider created → whole document, ms', joinCell(unloading?.joins)],
      ['…of which before its first data channel opened, ms', channelCell(unloading?.joins)],
      ['…of which the keeper loading the room, ms', ms(spread(reloads))]
    ],
    notes: [
      'the keeper is the built command (dist/keeper-cli.js) with --strategy mqtt on the embedded broker, --bind 127.0.0.1; each joiner is a peer process alone in its room with the keeper, on node-datachannel',
      'a fresh joiner\'s time includes its Trystero join (MQTT connect, the keeper waking from passive, the WebRTC handshake: node-datachannel often finishes DTLS ~1 s after ICE, see the join table) and the transfer and apply of the document',
      'RSS is the keeper process\'s (Linux /proc VmRSS; VmHWM for the peak), not a heap after a forced GC; V8 keeps the memory of unloaded rooms for reuse rather than returning it',
      `measured on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`,
      ...result.failures.map((f) => `not measured: ${f}`),
      ...[resident, unloading].flatMap((p) => p?.strayOutput.map((line) => `the keeper printed: ${line}`) ?? []),
      ...[resident, unloading].flatMap((p) => p?.joins.filter((j) => j.failure !== null).map((j) => `joiner in ${j.room} failed: ${j.failure}`) ?? [])
    ]
  }
}

export const compactionTable = (c: CompactionResult | null): Table => ({
  title: 'Keeper store on the B4 trace: every edit stored as it is applied, then compacted',
  columns: ['', 'rows', 'update bytes', 'file bytes (database + WAL)', 'file / document (V1)'],
  rows: c === null
    ? [['not measured (trace absent, or left out of this run)', null, null, null, null]]
    : [
        [`after replaying ${c.updates.toLocaleString('en-US')} edits, never compacted`, c.afterReplay.rows, kb(c.afterReplay.updateBytes), kb(c.afterReplay.fileBytes), `${(c.afterReplay.fileBytes / c.documentV1Bytes).toFixed(1)}×`],
        [`after compaction (${c.compactionMs.toFixed(0)} ms)`, c.afterCompaction.rows, kb(c.afterCompaction.updateBytes), kb(c.afterCompaction.fileBytes), `${(c.afterCompaction.fileBytes / c.documentV1Bytes).toFixed(2)}×`],
        ['default policy, at the end of the replay', c.defaultPolicy.rows, '—', kb(c.defaultPolicy.fileBytes), `${(c.defaultPolicy.fileBytes / c.documentV1Bytes).toFixed(2)}×`],
        ['default policy, largest file seen during the replay', '—', '—', kb(c.defaultPolicy.peakFileBytes), `${(c.defaultPolicy.peakFileBytes / c.documentV1Bytes).toFixed(2)}×`],
        ['the document itself: Yjs V1 state (V2)', 1, `${kb(c.documentV1Bytes)} (${kb(c.documentV2Bytes)})`, '—', '1×']
      ],
  notes: c === null
    ? []
    : [`storing costs ${c.storeMicrosPerUpdate.toFixed(1)} µs per update (replay with the store minus replay alone), SQLite WAL with synchronous=NORMAL: one commit per update`,
        `default policy: compact once the updates appended since the last compaction pass ${defaultCompaction.minBytes / 1024} KiB and the document's own size (or ${defaultCompaction.maxUpdates.toLocaleString('en-US')} updates)`]
})
