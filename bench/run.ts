/**
 * `npm run bench [-- name ...] [--quick]`: trystero-yjs and y-webrtc measured in the same run,
 * one peer per process, each on its own signaling server on 127.0.0.1. Prints markdown tables
 * with ratios (ours / y-webrtc), writes JSON per scenario and all tables to
 * bench/results/latest.md. Benchmarks are measurements, not tests: nothing here passes or fails;
 * the targets are reported, met or not, with their numbers.
 */
import { cpus, loadavg } from 'node:os'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { coalescingTable, runCoalescing } from './coalescing.js'
import { oursAt, oursNoSnapshot, oursV1, trysteroPush, yWebrtc, ours, type Contender } from './harness/contenders.js'
import { baselineBuild, beforeBuild, versionsIn } from './harness/build-at.js'
import { writeDocuments } from './harness/documents.js'
import { presets } from './presets.js'
import { joinTable, runJoin } from './scenarios/join.js'
import { joinWireTable, runJoinWire } from './scenarios/join-wire.js'
import { meshTable, runMesh, type MeshRow } from './scenarios/mesh.js'
import { heapStagesTable, memoryTable, runHeapStages, runMemory } from './scenarios/memory.js'
import { guardFloodTable, runGuardFlood } from './scenarios/guard-flood.js'
import { compactionTable, keeperTable, runKeeperBench, type KeeperBenchResult } from './scenarios/keeper.js'
import { runHostile, type HostileResult } from './scenarios/hostile.js'
import { hostileTables } from './scenarios/hostile-tables.js'
import { cyclesTable, kbPerCycle, reconnectTimeoutMs, runCycles, secondHalfFrom, type CyclesRun } from './scenarios/cycles.js'
import { floorMs, ladderTable, runLadder, trysteroFloorMs, type LadderRow } from './scenarios/size-ladder.js'
import { measureFloor, runSyncPhases, syncPhasesTable } from './scenarios/sync-phases.js'
import { runShapedLink, shapedLinkTable, type ShapedResult } from './scenarios/shaped-link.js'
import { keystrokePathTable, runKeystrokePath } from './scenarios/keystroke-path.js'
import { runTabLatency, tabLatencySummary, tabLatencyTable } from './scenarios/tab-latency.js'
import { runTyping, typingTable, wirePerEditTable, type TypingRow } from './scenarios/typing.js'
import { runWire, wireBreakdownTable, wireRatioTable, wireTargets } from './scenarios/wire.js'
import { traceCredit } from './support/editing-traces.js'
import { toMarkdown, writeResults, type Table } from './support/report.js'

const args = process.argv.slice(2)
const presetName = args.includes('--quick') ? 'quick' : 'full'
const preset = presets[presetName]
const known = ['coalescing', 'join', 'ladder', 'sync-phases', 'shaped-link', 'keystroke-path', 'tab-latency', 'typing', 'wire', 'join-wire', 'mesh', 'memory', 'guard-flood', 'keeper', 'cycles', 'hostile']
const requested = args.filter((a) => !a.startsWith('--'))
for (const name of requested) {
  if (!known.includes(name)) {
    console.error(`unknown benchmark ${JSON.stringify(name)}; known: ${known.join(', ')}`)
    process.exit(2)
  }
}
const selected = requested.length > 0 ? requested : known

// By path: not every package exports its package.json.
const version = (name: string): string =>
  (JSON.parse(readFileSync(fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url)), 'utf8')) as { version: string }).version
const header = [
  `Node ${process.version}; each scenario's run, preset and machine are given above its tables.`,
  `${ours.label} with Trystero ${version('@trystero-p2p/core')} (MQTT strategy, local aedes broker) vs ${yWebrtc.label} ${version('y-webrtc')} (its bin/server.js); yjs ${version('yjs')}, node-datachannel ${version('node-datachannel')}, @roamhq/wrtc ${version('@roamhq/wrtc')}.`,
  'Both on node-datachannel (y-webrtc handed plain-object session descriptions, see bench/harness/contenders.ts); the mesh table adds y-webrtc on @roamhq/wrtc, the stack of the y-webrtc baseline notes. One peer per process; loopback; medians with min–max.'
]

const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`

/** The tables of the scenario under way, and the targets it measured. */
let sections: string[] = []
let targets: string[][] = []
/** Prints a table into the scenario's part of latest.md; with a name, writes `data` to results/<name>.json. */
const print = (table: Table, name?: string, data?: unknown): void => {
  const markdown = toMarkdown(table)
  console.log(`\n${markdown}\n`)
  sections.push(markdown)
  if (name !== undefined) writeResults(name, data)
}
const results = fileURLToPath(new URL('./results/', import.meta.url))

const documents = writeDocuments(['10 KB', ...new Set([...preset.ladder.documents, 'B4'])])
const documentNamed = (name: string) => documents.documents.find((d) => d.name === name)!
const timeoutMs = preset.timeoutMs

/**
 * One scenario's failure (a harness bug, a wedged WebRTC stack) is reported in its place; the
 * scenarios after it still run and latest.md is still written.
 */
const scenario = async (name: string, f: () => Promise<void> | void): Promise<void> => {
  if (!selected.includes(name)) return
  // The machine per scenario: latest.md joins scenarios run at different times, maybe elsewhere.
  sections = [`_${name}: run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, preset \`${presetName}\`, ${machine}_`]
  targets = []
  try {
    await f()
  } catch (error) {
    const message = `**${name}: not measured in this run** — ${error instanceof Error ? error.stack ?? error.message : String(error)}`
    console.error(message)
    sections.push(message)
  }
  if (targets.length > 0) {
    const table = toMarkdown({ title: `Targets (ours, measured in this run): ${name}`, columns: ['target', 'measured', 'met'], rows: targets })
    console.log(`\n${table}\n`)
    sections.push(table)
  }
  // Each scenario keeps its own file, so rerunning one (`npm run bench -- typing`) updates its
  // part of latest.md and leaves the others' as they were measured.
  writeFileSync(`${results}${name}.md`, `${sections.join('\n\n')}\n`)
}

// ^C must not leave the ladder's documents (up to 50 MB) in the temporary directory.
process.once('SIGINT', () => { documents.dispose(); process.exit(130) })
try {
  await scenario('coalescing', () => {
    const result = runCoalescing({ burstSizes: [1, 10, 100, 256, 257, 1000, 5000], repeats: 7 })
    print(coalescingTable(result, 7), 'coalescing', result)
  })
  await scenario('join', async () => {
    const rows = await runJoin({ ...preset.join, small: documentNamed('10 KB'), timeoutMs })
    print(joinTable(rows), 'join', rows)
  })
  await scenario('ladder', async () => {
    // Today's provider (before compact sync) beside ours, in the same run: BENCH_BASELINE=<git ref>.
    const today = await baselineContender()
    const contenders = [ours, oursNoSnapshot, oursV1, ...(today === null ? [] : [today]), trysteroPush, yWebrtc]
    const rows = await runLadder({ documents: preset.ladder.documents.map(documentNamed), runs: preset.ladder.runs, timeoutMs, contenders })
    print(ladderTable(rows), 'size-ladder', rows)
    targets.push(...ladderTargets(rows, today))
  })
  await scenario('sync-phases', async () => {
    const documents = preset.syncPhases.documents.map(documentNamed)
    const today = await baselineContender()
    const rows = await runSyncPhases({ documents, runs: preset.syncPhases.runs, contenders: [ours, oursNoSnapshot, oursV1, ...(today === null ? [] : [today])] })
    const floors = []
    for (const document of documents) floors.push(await measureFloor(document))
    print(syncPhasesTable(rows, floors, preset.syncPhases.runs), 'sync-phases', { rows, floors })
  })
  await scenario('shaped-link', async () => {
    const today = await baselineContender()
    const result = await runShapedLink({ documents: preset.shapedLink.documents.map(documentNamed), runs: preset.shapedLink.runs, contenders: [ours, oursV1, ...(today === null ? [] : [today]), yWebrtc], timeoutMs: 60_000 })
    print(shapedLinkTable(result), 'shaped-link', result)
    targets.push(...shapedTargets(result))
  })
  await scenario('keystroke-path', async () => {
    const rows = await runKeystrokePath()
    print(keystrokePathTable(rows), 'keystroke-path', rows)
  })
  await scenario('tab-latency', async () => {
    const rows = await runTabLatency({ ...preset.tabLatency, timeoutMs })
    print(tabLatencyTable(rows), 'tab-latency', tabLatencySummary(rows))
  })
  await scenario('typing', async () => {
    const rows = await runTyping({ ...preset.typing, timeoutMs: 60_000 })
    print(typingTable(rows, preset.typing.edits), 'typing', rows)
    print(wirePerEditTable(rows), 'wire-per-edit', rows)
    targets.push(...typingTargets(rows))
  })
  await scenario('wire', async () => {
    // Needs root and tcpdump (a network namespace, a capture); elsewhere it says so in its place.
    const result = await runWire({ ...preset.wire, timeoutMs: 60_000 })
    print(wireBreakdownTable(result, preset.wire.edits), 'wire', result)
    if (!('skipped' in result)) {
      const ratios = toMarkdown(wireRatioTable(result))
      console.log(`\n${ratios}\n`)
      sections.push(ratios)
    }
    targets.push(...wireTargets(result))
  })
  await scenario('join-wire', async () => {
    const rows = await runJoinWire({ ...preset.joinWire, small: documentNamed('10 KB'), timeoutMs })
    print(joinWireTable(rows), 'join-wire', rows)
  })
  await scenario('mesh', async () => {
    const rows = await runMesh({ ...preset.mesh, deadlineMs: 30_000 })
    print(meshTable(rows, 30_000), 'mesh', rows)
    targets.push(...meshTargets(rows))
  })
  await scenario('memory', async () => {
    const rows = await runMemory({ sizes: preset.memory.sizes, document: documentNamed('B4'), timeoutMs })
    print(memoryTable(rows, documentNamed('B4')), 'memory', rows)
    const stages = await runHeapStages(documentNamed('B4'))
    print(heapStagesTable(stages, documentNamed('B4')), 'heap-stages', stages)
  })
  await scenario('guard-flood', async () => {
    const rows = await runGuardFlood(preset.guardFlood)
    print(guardFloodTable(rows, preset.guardFlood), 'guard-flood', rows)
  })
  await scenario('keeper', async () => {
    const result = await runKeeperBench({ ...preset.keeper, document: documentNamed('B4'), timeoutMs: 60_000 })
    print(keeperTable(result), 'keeper', result)
    print(compactionTable(result.compaction), 'keeper-compaction', result.compaction)
    targets.push(...keeperTargets(result))
  })
  await scenario('cycles', async () => {
    // BENCH_CYCLES_SNAPSHOTS=dir: heap snapshots of both WebRTC peers at the second half's start and at
    // the end, to compare with `npx tsx bench/harness/heap-diff.ts`.
    const directory = process.env['BENCH_CYCLES_SNAPSHOTS']
    const snapshots = directory === undefined ? {} : { snapshots: { directory, cycles: [secondHalfFrom(preset.cycles.cycles, preset.cycles.every), preset.cycles.cycles] } }
    const runs = await runCycles({ ...preset.cycles, reconnectTimeoutMs, ...snapshots })
    print(cyclesTable(runs, preset.cycles), 'cycles', runs)
    targets.push(cyclesTarget(runs))
  })
  await scenario('hostile', async () => {
    // Before issue 10: built from this repository's history into bench/.cache/ (once), or BENCH_BEFORE_DIST.
    const before = await beforeBuild()
    const after = fileURLToPath(new URL('../dist', import.meta.url))
    const directory = process.env['BENCH_HOSTILE_SNAPSHOTS']
    const options = { ...preset.hostile, contenders: [{ label: 'before' as const, dist: before.dist }, { label: 'after' as const, dist: after }], ...(directory === undefined ? {} : { snapshots: directory }) }
    // Stalls and latencies move with what else runs on the cores: the tables say how busy they were.
    const load = sampleLoad()
    const results = await runHostile(options, console.log)
    const during = load.stop()
    writeResults('hostile', { before, options, results: rounded(results) })
    const packages = ['yjs', '@trystero-p2p/core', 'node-datachannel']
    const tables = hostileTables(results, {
      options,
      machine: `${machine}; ${during}`,
      before: `the provider at commit ${before.commit} (${before.source === 'given' ? 'given' : 'built with its own lock file by bench/harness/build-at.ts'})`,
      versions: `Before: ${versionsIn(before.dist, packages)}; after: ${versionsIn(after, packages)}.`
    })
    for (const table of tables) print(table)
  })
} finally {
  documents.dispose()
}

/** The 1-minute load average every 30 s until `stop()`, which describes it (the cores are shared with whatever else runs). */
function sampleLoad (): { stop: () => string } {
  const samples = [loadavg()[0]!]
  const timer = setInterval(() => samples.push(loadavg()[0]!), 30_000)
  timer.unref()
  return {
    stop: () => {
      clearInterval(timer)
      samples.push(loadavg()[0]!)
      const sorted = [...samples].sort((a, b) => a - b)
      return `load average (1 min, sampled every 30 s) during the run: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)} over ${sorted.length} samples (this bench's own processes count in it; much above ${cpus().length}, other work shared the cores)`
    }
  }
}

/** Latencies to 0.01 ms: the JSON keeps thousands of them. */
function rounded (results: HostileResult[]): HostileResult[] {
  return results.map((r) => ({ ...r, runs: r.runs.map((run) => ({ ...run, latencies: run.latencies.map((ms) => Math.round(ms * 100) / 100) })) }))
}

const parts = known.map((name) => `${results}${name}.md`).filter((path) => existsSync(path)).map((path) => readFileSync(path, 'utf8').trim())
const latest = `${results}latest.md`
writeFileSync(latest, `${[header.join('\n'), ...parts, `Data: ${traceCredit} (CC BY 4.0).`].join('\n\n')}\n`)
console.log(`tables: ${latest}`)

function shapedTargets (result: ShapedResult): string[][] {
  if (result.unavailable !== null) return [['initial sync over a slow link: compact sync faster than V1', `not measured: ${result.unavailable}`, 'no']]
  return result.rows.map((row) => {
    const [compact, v1] = row.results
    const ok = compact?.ms != null && v1?.ms != null
    return [`${row.document.name} over ${result.link!.rateMbit} Mbit/s, ${2 * result.link!.oneWayDelayMs} ms: compact sync faster than V1`,
      ok ? `${compact.ms!.median.toFixed(0)} vs ${v1.ms!.median.toFixed(0)} ms` : 'a side failed', ok && compact.ms!.median < v1.ms!.median ? 'yes' : 'no']
  })
}

/** The build of BENCH_BASELINE (default: main) as a contender, or null if it cannot be built. */
async function baselineContender (): Promise<Contender | null> {
  try {
    const build = await baselineBuild()
    return oursAt(build, `at ${build.ref}`)
  } catch (error) {
    console.error(`baseline ${process.env['BENCH_BASELINE'] ?? 'main'} not built, left out: ${(error as Error).message}`)
    return null
  }
}

function ladderTargets (rows: LadderRow[], today: Contender | null): string[][] {
  const result: string[][] = []
  for (const [index, bound] of [[0, 1.5], [1, 1.5]] as const) {
    const label = rows[0]?.results[index]?.contender ?? ''
    const worst = rows.map((row) => { const r = row.results[index]!; return { document: row.document, ratio: r.ms === null ? Infinity : r.ms.median / floorMs(row), all: r.synced === r.attempted } })
    const failed = worst.filter((w) => !w.all).map((w) => w.document.name)
    const over = worst.filter((w) => w.ratio > bound).map((w) => `${w.document.name} ${w.ratio.toFixed(2)}×`)
    const largest = rows.at(-1)?.document.name ?? 'none'
    result.push([`${label}: every document syncs (largest in this preset: ${largest}) in ≤ ${bound}× its floor once the channel is open`,
      `${failed.length === 0 ? 'all synced' : `failed: ${failed.join(', ')}`}; worst ${Math.max(...worst.map((w) => w.ratio)).toFixed(2)}× floor`,
      failed.length === 0 && over.length === 0 ? 'yes' : `no (${[...failed, ...over].join(', ')})`])
  }
  // Beside the issue's target, the one a provider on Trystero can be held to (see the ladder's notes).
  const onTrystero = rows.map((row) => { const floor = trysteroFloorMs(row); const r = row.results[0]!; return { name: row.document.name, ratio: floor === null || r.ms === null ? null : r.ms.median / floor } })
  if (onTrystero.some((t) => t.ratio !== null)) {
    const over = onTrystero.filter((t) => t.ratio === null || t.ratio > 1.5).map((t) => `${t.name} ${t.ratio === null ? 'not measured' : `${t.ratio.toFixed(2)}×`}`)
    result.push([`${rows[0]!.results[0]!.contender}: every document in ≤ 1.5× the ${trysteroPush.label}`,
      `worst ${Math.max(...onTrystero.map((t) => t.ratio ?? Infinity)).toFixed(2)}×`, over.length === 0 ? 'yes' : `no (${over.join(', ')})`])
  }
  const b4 = rows.find((row) => row.document.name === 'B4')
  if (b4 !== undefined) {
    const compact = b4.results[0]!
    result.push(['B4: initial sync bytes ≤ 80 KB (V1 state: 311 KB)', compact.bytes === null ? 'failed' : `${compact.bytes.toLocaleString('en-US')} B`, compact.bytes !== null && compact.bytes <= 80_000 ? 'yes' : 'no'])
    const before = today === null ? undefined : b4.results.find((r) => r.contender === today.label)
    if (before !== undefined) {
      const met = compact.ms !== null && before.ms !== null && compact.ms.median <= before.ms.median
      result.push([`B4: time, channel open → complete, ≤ ${today!.label}'s on loopback`, compact.ms === null || before.ms === null ? 'a side failed' : `${compact.ms.median.toFixed(0)} vs ${before.ms.median.toFixed(0)} ms`, met ? 'yes' : 'no'])
    }
  }
  return result
}

function typingTargets (rows: TypingRow[]): string[][] {
  const result: string[][] = []
  for (let i = 0; i + 1 < rows.length; i += 2) {
    const [a, b] = [rows[i]!, rows[i + 1]!]
    if (a.mode === 'back to back') {
      const ratio = a.lastEditMs === null || b.lastEditMs === null ? null : a.lastEditMs.median / b.lastEditMs.median
      result.push([`burst of edits, ${a.peers} peers: last edit at the last peer in ≤ 1/10 of y-webrtc's time`,
        ratio === null ? 'a side failed' : `${a.lastEditMs!.median.toFixed(0)} vs ${b.lastEditMs!.median.toFixed(0)} ms (${ratio.toFixed(3)}×)`,
        ratio !== null && ratio <= 0.1 ? 'yes' : 'no'])
    } else {
      result.push([`typing one per 10 ms, ${a.peers} peers: p99 ≤ y-webrtc's`,
        a.latency === null || b.latency === null ? 'a side failed' : `${a.latency.p99.toFixed(2)} vs ${b.latency.p99.toFixed(2)} ms`,
        a.latency !== null && b.latency !== null && a.latency.p99 <= b.latency.p99 ? 'yes' : 'no'])
      result.push([`messages per edit, ${a.peers} peers: exactly N−1 = ${a.peers - 1} (y-webrtc: N·(N−1))`,
        `${a.messagesPerEdit?.toFixed(3) ?? '—'} (y-webrtc ${b.messagesPerEdit?.toFixed(3) ?? '—'})`,
        a.messagesPerEdit === a.peers - 1 ? 'yes' : 'no'])
    }
  }
  return result
}

function cyclesTarget (runs: CyclesRun[]): string[] {
  const run = runs.find((r) => r.network === 'new connection')
  const every = preset.cycles.every
  const half = secondHalfFrom(preset.cycles.cycles, every)
  const slopes = run === undefined ? [] : (['cyclingMB', 'stayingMB'] as const).map((key) => kbPerCycle(run.readings, key, half))
  const worst = slopes.some((s) => s === null) || slopes.length === 0 ? null : Math.max(...(slopes as number[]))
  return [`${preset.cycles.cycles.toLocaleString('en-US')} disconnect/connect cycles over WebRTC: heap flat (≤ 1 KB per cycle over the second half, both peers)`,
    run === undefined || worst === null ? 'not measured' : `${run.completed} cycles; worst ${worst.toFixed(2)} KB per cycle from cycle ${half}`,
    run !== undefined && run.failureReason === null && worst !== null && worst <= 1 ? 'yes' : 'no']
}

function meshTargets (rows: MeshRow[]): string[][] {
  return rows.filter((r) => r.contender === ours.label && (r.peers === 5 || r.peers === 10)).map((r) =>
    [`mesh formation: 10 of 10 runs at ${r.peers} peers`, `${r.succeeded}/${r.runs}`, r.succeeded === r.runs && r.runs >= 10 ? 'yes' : r.succeeded === r.runs ? `all ${r.runs} runs (fewer than 10 in this preset)` : 'no'])
}

function keeperTargets (result: KeeperBenchResult): string[][] {
  const rss = result.resident?.peakRssMB ?? null
  return [[`${result.rooms} rooms holding ${result.document.name}: keeper RSS under 1 GiB`,
    rss === null ? 'not measured' : `peak ${rss.toFixed(0)} MB`, rss !== null && rss < 1024 ? 'yes' : 'no']]
}
