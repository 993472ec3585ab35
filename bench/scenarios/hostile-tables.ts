/** The hostile benchmark's tables: per attack, before and after issue 10 side by side, and after/before. */
import type { Cell, Table } from '../support/report.js'
import { median, percentile } from '../support/report.js'
import type { HostileCase, HostileOptions, HostileResult, HostileRun, Memory } from './hostile.js'
import { mmapEverything } from './hostile.js'

const MiB = 1024 * 1024

/** What one contender's runs of one attack came to: medians over the runs in which the victim lived. */
interface Summary {
  runs: number
  survived: number
  peakMiB: number | null
  heldMiB: number | null
  goneMiB: number | null
  gone: Record<Exclude<keyof Memory, 'rss'>, number | null>
  peakArrayBuffersMiB: number | null
  maxDelayMs: number | null
  p99DelayMs: number | null
  latencyP50Ms: number | null
  latencyMaxMs: number | null
  probesSent: number
  probesArrived: number
  /** Medians of the runs that reached it; `timedOut` runs did not. */
  figureMs: number | null
  timedOut: number
  answers: number | null
  reported: string
  failures: string[]
  lingered: string | null
  lingeredRuns: number
}

const growth = (run: HostileRun, stage: 'held' | 'gone', key: keyof Memory): number | null => {
  const { before } = run.memory
  const after = run.memory[stage]
  return before === null || after === null ? null : (after[key] - before[key]) / MiB
}

const medianOf = (values: Array<number | null>): number | null => {
  const numbers = values.filter((v): v is number => v !== null)
  return numbers.length === 0 ? null : median(numbers)
}

/** A report without its context in parentheses (peer id, message, cause), but with the limit it names. */
const reportLine = (message: string): string => {
  const limit = / limit (\w+ = \d+)/.exec(message)?.[1]
  return `${message.replace(/^trystero-yjs: /, '').replace(/ \((doc|peer) .*$/s, '')}${limit === undefined ? '' : ` (limit ${limit})`}`
}

const summarize = (runs: HostileRun[]): Summary => {
  const lived = runs.filter((r) => r.survived && r.memory.before !== null && r.stall !== null)
  const pick = (f: (r: HostileRun) => number | null): number | null => medianOf(lived.map(f))
  const reports = new Map<string, number>()
  for (const run of runs.slice(0, 1)) for (const r of run.reports) reports.set(`${r.kind}: ${reportLine(r.message)}`, (reports.get(`${r.kind}: ${reportLine(r.message)}`) ?? 0) + 1)
  const died = runs.find((r) => !r.survived)?.failure ?? null
  const reported = died !== null ? died.replace(/^victim died/, 'died') : reports.size === 0 ? 'nothing' : [...reports].map(([line, n]) => n > 1 ? `${line} (×${n})` : line).join('; ')
  const reached = runs.filter((r) => r.figureMs !== null)
  return {
    runs: runs.length,
    survived: runs.filter((r) => r.survived).length,
    peakMiB: pick((r) => (r.stall!.peakRss - r.memory.before!.rss) / MiB),
    heldMiB: pick((r) => growth(r, 'held', 'rss')),
    goneMiB: pick((r) => growth(r, 'gone', 'rss')),
    gone: { heapUsed: pick((r) => growth(r, 'gone', 'heapUsed')), external: pick((r) => growth(r, 'gone', 'external')), arrayBuffers: pick((r) => growth(r, 'gone', 'arrayBuffers')) },
    peakArrayBuffersMiB: pick((r) => (r.stall!.peakArrayBuffers - r.memory.before!.arrayBuffers) / MiB),
    maxDelayMs: pick((r) => r.stall!.maxDelayMs),
    p99DelayMs: pick((r) => r.stall!.p99DelayMs),
    latencyP50Ms: pick((r) => r.latencies.length === 0 ? null : percentile(r.latencies, 50)),
    latencyMaxMs: pick((r) => r.latencies.length === 0 ? null : Math.max(...r.latencies)),
    probesSent: runs.reduce((sum, r) => sum + r.probesSent, 0),
    probesArrived: runs.reduce((sum, r) => sum + r.latencies.length, 0),
    figureMs: reached.length === 0 ? null : median(reached.map((r) => r.figureMs!)),
    timedOut: runs.length - reached.length,
    answers: medianOf(runs.map((r) => r.answers)),
    reported,
    failures: runs.flatMap((r) => r.failure === null || !r.survived ? [] : [r.failure]),
    lingered: runs.find((r) => r.attackerLingered !== null)?.attackerLingered ?? null,
    lingeredRuns: runs.filter((r) => r.attackerLingered !== null).length
  }
}

/** after / before; '—' when either is missing or before is within `floor` of zero (noise), '≈ 0' when after is. */
const ratio = (before: number | null, after: number | null, floor = 0): string => {
  if (before === null || after === null || Math.abs(before) <= floor) return '—'
  if (Math.abs(after) <= floor) return '≈ 0'
  const r = after / before
  return Math.abs(r) >= 10 ? r.toFixed(0) : Math.abs(r) >= 0.1 ? r.toFixed(2) : r.toPrecision(2)
}

/** RSS at rest moves by up to ~10 MiB over a run with nothing happening: ratios of smaller figures say nothing. */
const memoryNoiseMiB = 12

interface Pair { attack: HostileCase, before: Summary | null, after: Summary | null }

const pairs = (results: HostileResult[]): Pair[] => {
  const byCase = new Map<HostileCase, Pair>()
  for (const result of results) {
    const pair = byCase.get(result.attack) ?? { attack: result.attack, before: null, after: null }
    pair[result.contender] = summarize(result.runs)
    byCase.set(result.attack, pair)
  }
  return [...byCase.values()]
}

/** before, after, after/before for one figure; `digits` fixes the decimals shown. */
const sideBySide = (pair: Pair, f: (s: Summary) => number | null, floor = 0, digits?: number): Cell[] => {
  const b = pair.before === null ? null : f(pair.before)
  const a = pair.after === null ? null : f(pair.after)
  const show = (n: number | null): Cell => n === null || digits === undefined ? n : n.toFixed(digits)
  return [show(b), show(a), ratio(b, a, floor)]
}

/** MiB to one decimal. */
const mib = (n: number | null): Cell => n === null ? null : n.toFixed(1)

const alive = (s: Summary | null): string => s === null ? '—' : `${s.survived}/${s.runs}`
const arrived = (s: Summary | null): string => s === null ? '—' : `${s.probesArrived}/${s.probesSent}`

const figure = (s: Summary | null, kind: HostileCase['kind'], options: HostileOptions): Cell => {
  if (s === null || (kind !== 'silent peer' && kind !== 'SIGKILL')) return s?.answers === null || s === null ? null : `${s.answers} answers`
  const deadline = kind === 'silent peer' ? options.silentDeadlineMs : options.killDeadlineMs
  if (s.figureMs === null) return `never within ${deadline / 1000} s`
  return `${(s.figureMs / 1000).toFixed(1)} s${s.timedOut > 0 ? ` (${s.timedOut} of ${s.runs} never within ${deadline / 1000} s)` : ''}`
}

export interface HostileTableContext {
  options: HostileOptions
  machine: string
  /** The before contender's commit and how it was obtained; versions of both trees. */
  before: string
  versions: string
}

export const hostileTables = (results: HostileResult[], context: HostileTableContext): Table[] => {
  const rows = pairs(results)
  const { options } = context
  const runsNote = `Medians over the runs in which the victim lived (${options.runs} per attack and contender${options.missingHistory.some((m) => m.runs !== options.runs) ? `; ${options.missingHistory.map((m) => `${m.runs} for ${m.updates.toLocaleString('en-US')} updates`).join(', ')}` : ''}); — where it died or the figure does not apply.`
  const contenders = `before = ${context.before}; after = this repository's build (dist/). ${context.versions} Machine: ${context.machine}.`
  const failures = rows.flatMap((p) => (['before', 'after'] as const).flatMap((c) => [
    ...(p[c]?.failures.length ? [`${p.attack.label}, ${c}: runs failed: ${[...new Set(p[c]!.failures)].join('; ')}`] : []),
    ...(p[c]?.lingered ? [`${p.attack.label}, ${c}: the attacker was ${p[c]!.lingered} (in ${p[c]!.lingeredRuns} of ${p[c]!.runs} runs); "attacker gone" was read then`] : [])
  ]))
  return [{
    title: 'Hostile peers: the victim\'s RSS, MiB over its RSS at rest before the attack',
    columns: ['attack', 'peak: before', 'after', 'after/before', 'at rest, attacker connected: before', 'after', 'after/before', 'at rest, attacker gone: before', 'after', 'after/before'],
    rows: rows.map((p) => [p.attack.label, ...sideBySide(p, (s) => s.peakMiB, memoryNoiseMiB, 1), ...sideBySide(p, (s) => s.heldMiB, memoryNoiseMiB, 1), ...sideBySide(p, (s) => s.goneMiB, memoryNoiseMiB, 1)]),
    notes: [
      'One room per run on the embedded MQTT broker, three processes on node-datachannel: the victim (a TrysteroProvider as an app gets it, default options), an honest third peer, and the attacker — a raw Trystero member with its own data channel to the victim (attacks 1–5) or a provider peer that is killed (6). Attacks as mounted by test/webrtc/guard.test.ts and hostile-peers.test.ts.',
      'peak: the highest RSS during the attack (sampled every 20 ms, and the process\'s own maximum RSS if it rose). At rest: after two forced GCs, the lowest of three readings 200 ms apart; "attacker connected" is read once the attack was handled (the attacker may have been cut off by then), "attacker gone" once it left and the victim\'s Trystero room no longer had it.',
      `Ratios are after/before: none when the before figure is within ${memoryNoiseMiB} MiB of zero, ≈ 0 when the after figure is (RSS at rest moves by up to ~10 MiB over a run with nothing happening: V8 and the allocator hand pages back late; the baseline waits ${options.settleMs / 1000} s at least, and until RSS held still for 4 s).`,
      runsNote, contenders, ...failures
    ]
  }, {
    title: 'Hostile peers: what holds the victim\'s memory once the attacker is gone (MiB over before the attack)',
    columns: ['attack', 'before: RSS', 'V8 heap', 'external', 'ArrayBuffers', 'ArrayBuffers peak during', 'after: RSS', 'V8 heap', 'external', 'ArrayBuffers', 'ArrayBuffers peak during'],
    rows: rows.map((p) => [p.attack.label, ...(['before', 'after'] as const).flatMap((c) => {
      const s = p[c]
      return s === null ? [null, null, null, null, null] : [s.goneMiB, s.gone.heapUsed, s.gone.external, s.gone.arrayBuffers, s.peakArrayBuffersMiB].map(mib)
    })]),
    notes: [
      '`process.memoryUsage()` after two forced GCs: V8 heap in use, memory outside the heap that V8 knows of (external, which includes ArrayBuffers), and ArrayBuffers alone. RSS that none of them accounts for is native memory (node-datachannel, libdatachannel) or memory freed but kept by the allocator. The heap also holds the third peer\'s edits (a Y.Array item each): a long stall means thousands of them.',
      ...whatHoldsNotes(rows)
    ]
  }, {
    title: 'Hostile peers: the victim\'s main thread during the attack (event loop delay, ms)',
    columns: ['attack', 'max: before', 'after', 'after/before', 'p99: before', 'after', 'after/before'],
    rows: rows.map((p) => [p.attack.label, ...sideBySide(p, (s) => s.maxDelayMs), ...sideBySide(p, (s) => s.p99DelayMs)]),
    notes: ['`perf_hooks.monitorEventLoopDelay` (10 ms resolution) in the victim, from just before the attack until it was handled (or at least 2 s): the longest and the 99th percentile of the times the event loop was held up. 10–20 ms is the floor of an idle process at this resolution. A p99 equal to the max: one stall took most of the window.']
  }, {
    title: `Hostile peers: the third peer's edits at the victim during the attack (one every ${options.probeIntervalMs} ms, ms from edit to arrival)`,
    columns: ['attack', 'p50: before', 'after', 'after/before', 'max: before', 'after', 'after/before', 'arrived: before', 'after'],
    rows: rows.map((p) => [p.attack.label, ...sideBySide(p, (s) => s.latencyP50Ms), ...sideBySide(p, (s) => s.latencyMaxMs), arrived(p.before), arrived(p.after)]),
    notes: [
      `The honest peer appends its clock to a Y.Array every ${options.probeIntervalMs} ms while the attack lasts; the victim notes when each arrives (one machine, one clock). Arrived: edits that reached the victim within 30 s of the attack's end, of those sent, summed over runs; a dead victim gets none.`,
      'The step 1 flood counts as over once no answer reached the attacker for 3 s, twice, the victim having answered the coordinator in between (a stalled victim sends nothing): its rows include those quiet seconds.'
    ]
  }, {
    title: 'Hostile peers: outcome',
    columns: ['attack', 'victim alive: before', 'after', 'time or answers: before', 'after', 'after/before', 'the victim reported: before', 'after'],
    rows: rows.map((p) => {
      const time = (s: Summary | null): number | null => s?.figureMs ?? null
      const timed = p.attack.kind === 'silent peer' || p.attack.kind === 'SIGKILL'
      return [p.attack.label, alive(p.before), alive(p.after), figure(p.before, p.attack.kind, options), figure(p.after, p.attack.kind, options),
        timed ? ratio(time(p.before), time(p.after)) : ratio(p.before?.answers ?? null, p.after?.answers ?? null), p.before?.reported ?? '—', p.after?.reported ?? '—']
    }),
    notes: [
      `Time: for the silent peer, from the victim listing it until the victim was synced again (the victim and the third peer were synced before; default syncTimeout after); for the killed peer, from SIGKILL until the victim dropped it from \`peers\` (default heartbeat after). Answers: full step 2 answers the step 1 flood got back. Deadlines ${options.silentDeadlineMs / 1000} s and ${options.killDeadlineMs / 1000} s.`,
      'Reported: the victim\'s `error` and `warning` events during the attack (first run; peer ids and figures left out), or how it died.'
    ]
  }]
}

/** What the breakdown says about the memory the attacks left before issue 10, from this run's figures. */
const whatHoldsNotes = (rows: Pair[]): string[] => {
  const before = (kind: HostileCase['kind'], mapped = false): Summary | null =>
    rows.find((p) => p.attack.kind === kind && (p.attack.victimEnv !== undefined) === mapped)?.before ?? null
  const f = (n: number | null): string => n === null ? '—' : `${n >= 0 ? '+' : ''}${n.toFixed(1)} MiB`
  const notes: string[] = []
  const unclaimed = before('unclaimed names')
  if (unclaimed?.goneMiB != null) {
    notes.push(`Before, names nobody listens to: once the sender was gone the victim still held ${f(unclaimed.gone.arrayBuffers)} of ArrayBuffers (RSS ${f(unclaimed.goneMiB)}): Trystero's buffer of frames for actions it does not have, kept until the victim itself leaves the room.`)
  }
  const flood = before('step 1 flood')
  const mapped = before('step 1 flood', true)
  if (flood?.goneMiB != null) {
    notes.push(`Before, step 1 flood: once the requester was gone the victim's RSS stayed ${f(flood.goneMiB)} while V8's heap (${f(flood.gone.heapUsed)}), external memory (${f(flood.gone.external)}) and ArrayBuffers (${f(flood.gone.arrayBuffers)}) were back where they were: no live object holds it. During the attack ArrayBuffers peaked at ${f(flood.peakArrayBuffersMiB)}: every request was answered at once with the whole document, and Trystero cuts each message into a full set of 16 KiB chunks (a second copy) before it sends the first, so the answers, twice over, waited together for one data channel.` +
      (mapped?.goneMiB == null
        ? ''
        : ` With the victim's malloc mapping every block of 4 KiB or more on its own and unmapping it when freed (\`${Object.entries(mmapEverything).map(([k, v]) => `${k}=${v}`).join(' ')}\`, the row marked so), the same attack left ${f(mapped.goneMiB)} (peak ${f(mapped.peakMiB)}): what stays is memory already freed, which glibc's malloc keeps for reuse instead of returning it to the system.`))
  }
  const pending = rows.filter((p) => p.attack.kind === 'missing history' && p.before?.goneMiB != null)
  if (pending.length > 0) {
    notes.push(`Before, updates whose history is missing: Yjs's pending set keeps them for good (ArrayBuffers ${pending.map((p) => `${f(p.before!.gone.arrayBuffers)} for ${p.attack.size!.toLocaleString('en-US')}`).join(', ')} once the sender was gone: the pending update), and ships them to every joiner in step 2; the rest of the RSS is freed memory the allocator kept.`)
  }
  return notes
}
