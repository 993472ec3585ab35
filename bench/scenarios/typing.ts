/**
 * Scenarios 3 and 4 (per edit): one peer types `edits` characters, one per 10 ms or back to
 * back; latency from each keystroke to its arrival at every receiver, the time for the last edit
 * to reach the last peer, and data-channel messages and bytes per edit, all peers counted.
 */
import { ours, yWebrtc, type Contender } from '../harness/contenders.js'
import type { Counters } from '../harness/protocol.js'
import { join, staggerMs, waitSynced, withRoom } from '../harness/rooms.js'
import { failureNotes, formatSpread, percentile, ratio, reason, spread, type Spread, type Table } from '../support/report.js'
import { pairs } from './join.js'

export interface TypingOptions {
  sizes: number[]
  runs: number
  edits: number
  timeoutMs: number
}

export type TypingMode = 'one per 10 ms' | 'back to back'

export interface TypingRow {
  contender: string
  peers: number
  mode: TypingMode
  latency: { p50: number, p99: number, max: number } | null
  lastEditMs: Spread | null
  /** How long the writer's own loop of edits took (first to last keystroke): part of a burst's last-edit time. */
  typingLoopMs: Spread | null
  messagesPerEdit: number | null
  bytesPerEdit: number | null
  failures: number
  failureReasons: string[]
  runs: number
}

export const runTyping = async (options: TypingOptions): Promise<TypingRow[]> => {
  const rows: TypingRow[] = []
  for (const peers of options.sizes) {
    for (const mode of ['one per 10 ms', 'back to back'] as const) {
      for (const contender of [ours, yWebrtc]) rows.push(await measure(contender, peers, mode, options))
    }
  }
  return rows
}

const measure = async (contender: Contender, count: number, mode: TypingMode, options: TypingOptions): Promise<TypingRow> => {
  const latencies: number[] = []
  const lastEdit: number[] = []
  const typingLoop: number[] = []
  let messages = 0
  let bytes = 0
  let measuredRuns = 0
  let failures = 0
  const failureReasons: string[] = []
  for (let run = 0; run < options.runs; run++) {
    await withRoom(contender, async (room) => {
      try {
        const peers = await room.spawn(count)
        await join(peers, staggerMs)
        await waitSynced(peers, count - 1, options.timeoutMs)
        await Promise.all(peers.map(async (p) => await p.request({ type: 'reset-counters' })))
        const [writer, ...receivers] = peers
        // Every receiver is recording before the first keystroke leaves.
        await Promise.all(receivers.map(async (p) => await p.request({ type: 'watch' })))
        const { sentAt } = await writer!.request<{ sentAt: number[] }>({ type: 'type', count: options.edits, intervalMs: mode === 'back to back' ? 0 : 10 })
        const arrivals = await Promise.all(receivers.map(async (p) => await p.request<{ arrivals: number[] }>({ type: 'arrivals', count: options.edits, timeoutMs: options.timeoutMs })))
        // Counted before anything is pooled: a run that fails here leaves no partial figures.
        const counters = await Promise.all(peers.map(async (p) => await p.request<Counters>({ type: 'counters' })))
        for (const { arrivals: times } of arrivals) times.forEach((at, i) => latencies.push(at - sentAt[i]!))
        const lastArrival = Math.max(...arrivals.map(({ arrivals: times }) => times[times.length - 1]!))
        // A burst is judged as a whole (from its first keystroke, as in the y-webrtc baseline);
        // paced typing by its last keystroke's own trip.
        lastEdit.push(lastArrival - (mode === 'back to back' ? sentAt[0]! : sentAt[sentAt.length - 1]!))
        typingLoop.push(sentAt[sentAt.length - 1]! - sentAt[0]!)
        for (const c of counters) {
          messages += c.dataChannel.messages
          bytes += c.dataChannel.bytes
        }
        measuredRuns++
      } catch (error) {
        failures++
        failureReasons.push(reason(error))
      }
    })
  }
  const edits = options.edits * measuredRuns
  return {
    contender: contender.label,
    peers: count,
    mode,
    latency: latencies.length === 0 ? null : { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
    lastEditMs: spread(lastEdit),
    typingLoopMs: spread(typingLoop),
    messagesPerEdit: edits === 0 ? null : messages / edits,
    bytesPerEdit: edits === 0 ? null : bytes / edits,
    failures,
    failureReasons,
    runs: options.runs
  }
}

const latencyCell = (row: TypingRow): string => row.latency === null ? 'failed' : `${row.latency.p50.toFixed(2)} / ${row.latency.p99.toFixed(2)} / ${row.latency.max.toFixed(1)}`

export const typingTable = (rows: TypingRow[], edits: number): Table => ({
  title: `Typing: ${edits} one-character edits from one peer (peers joined 200 ms apart); latency at every receiver (ms: p50 / p99 / max), last edit at the last peer (ms; back to back: from the first keystroke, as in the y-webrtc baseline; one per 10 ms: from the last keystroke)`,
  columns: ['peers', 'pacing', 'trystero-yjs latency', 'y-webrtc latency', 'p99 ours / y-webrtc', 'last edit, ours', 'last edit, y-webrtc', 'ours / y-webrtc', 'writer\'s loop, ours / y-webrtc (back to back)', 'failed runs'],
  rows: pairs(rows).map(([a, b]) => [a.peers, a.mode, latencyCell(a), latencyCell(b), ratio(a.latency?.p99, b.latency?.p99),
    formatSpread(a.lastEditMs), formatSpread(b.lastEditMs), ratio(a.lastEditMs?.median, b.lastEditMs?.median),
    a.mode === 'back to back' ? `${formatSpread(a.typingLoopMs)} / ${formatSpread(b.typingLoopMs)}` : '', `${a.failures}/${a.runs} / ${b.failures}/${b.runs}`]),
  notes: ['latency percentiles pool every receiver\'s arrivals over every run; last edit: median over runs of the slowest receiver',
    'writer\'s loop: first to last keystroke of the burst, in the writer (1,000 Yjs transactions, each encoded for the provider; y-webrtc also sends each one there and then); ours sends the merged burst when the loop ends',
    'ours is configured as in the tests: trickleIce false (loopback ICE in one offer), awareness state cleared on both sides so keepalives do not count',
    ...failureNotes(rows.map((r) => ({ ...r, contender: `${r.contender} (${r.mode})` })))]
})

export const wirePerEditTable = (rows: TypingRow[]): Table => ({
  title: 'Wire cost per edit: data-channel messages and bytes, all peers (RTCDataChannel.send counted in every process)',
  columns: ['peers', 'pacing', 'messages / edit, ours', 'y-webrtc', 'bytes / edit, ours', 'y-webrtc', 'bytes ours / y-webrtc'],
  rows: pairs(rows).map(([a, b]) => [a.peers, a.mode, a.messagesPerEdit?.toFixed(3) ?? '—', b.messagesPerEdit?.toFixed(3) ?? '—',
    a.bytesPerEdit?.toFixed(1) ?? '—', b.bytesPerEdit?.toFixed(1) ?? '—', ratio(a.bytesPerEdit, b.bytesPerEdit)]),
  notes: ['a data-channel message here is one send: Trystero splits messages into 16 KiB chunks and adds 103 bytes of framing per message',
    'back to back: ours sends the burst as one merged update per receiver (a tick = one message); y-webrtc sends every update, and re-broadcasts what it receives']
})
