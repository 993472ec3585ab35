/**
 * Issue 13 item 3: where the bytes of one paced keystroke go, from the Yjs update to IP, ours and
 * y-webrtc in the same run. One peer types one character per 10 ms (as the typing scenario's
 * paced mode) at N peers, one peer per process; the run happens inside a private network
 * namespace (`unshare -n`) whose loopback tcpdump captures, so every datagram counted is the
 * run's own. Layers above SCTP come from the peers' sends (send-anatomy.ts), those below from the
 * capture (pcap.ts), over the same time windows.
 *
 * Needs root (for the namespace and the capture) and tcpdump; without them it reports itself
 * skipped and measures nothing.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ours, yWebrtc } from '../harness/contenders.js'
import { addTraffic, emptyTraffic, readPcap, smallestDataDatagram, trafficIn, type WindowTraffic } from '../harness/pcap.js'
import { addAnatomy, emptyAnatomy, type SendAnatomy } from '../harness/send-anatomy.js'
import {
  captureFilter, maxAttemptsPerRun, settleMs, snapLength, syncTimeoutMs, tailMs,
  type WireCaptureConfig, type WireCaptureResult
} from '../harness/wire-capture-process.js'
import { ratio, type Table } from '../support/report.js'

export interface WireOptions {
  sizes: number[]
  runs: number
  edits: number
  timeoutMs: number
  /** Who runs the scenario and what is on its PATH; by default this process's. */
  host?: WireHost
}

export interface WireHost { uid: number | null, path: string }

/** Per edit, all peers: each layer's bytes (sums: send API, then IP), messages and datagrams. */
export interface WirePerEdit {
  yjsUpdate: number
  envelope: number
  roomFrame: number
  actionHeader: number
  /** Sends that are not Yjs updates, whole (none expected while typing). */
  otherSent: number
  /** = yjsUpdate + envelope + roomFrame + actionHeader + otherSent: RTCDataChannel.send. */
  sendBytes: number
  messages: number
  datagrams: number
  sackOnly: number
  /** UDP payload − send-API bytes: SCTP headers, padding, SACKs (alone or bundled), DTLS records. */
  sctpDtls: number
  /** 28 bytes per IPv4 datagram (UDP 8 + IP 20). */
  udpIp: number
  /** = sendBytes + sctpDtls + udpIp: the total on the wire, link layer aside. */
  ipBytes: number
}

export interface WireRow {
  contender: string
  peers: number
  /** Runs wanted, runs measured; a failed attempt (the mesh did not sync in time) was made again, up to 3 × runs. */
  runs: number
  measuredRuns: number
  /** Edits in the runs that completed. */
  edits: number
  /** The writer's mean Yjs update (V1) per edit, from the document's `update` events. */
  updateBytes: number | null
  perEdit: WirePerEdit | null
  /** The `other sends`, by kind (send-anatomy.ts), all runs. */
  otherKinds: SendAnatomy['otherKinds']
  sendBytesPerEditByRun: number[]
  ipBytesPerEditByRun: number[]
  traffic: WindowTraffic
  failures: number
  failureReasons: string[]
}

export interface WireMeasured {
  rows: WireRow[]
  tcpdump: WireCaptureResult['tcpdump']
  machine: { cores: number, cpu: string, kernel: string, loadAverageAtStart: number[], loadAverageAtEnd: number[] }
}

export type WireResult = { skipped: string } | WireMeasured

export const skippedPrefix = 'skipped: needs root and tcpdump'

const currentHost = (): WireHost => ({ uid: process.getuid?.() ?? null, path: process.env['PATH'] ?? '' })

const onPath = (command: string, searchPath: string): boolean =>
  searchPath.split(path.delimiter).some((directory) => directory !== '' && existsSync(path.join(directory, command)))

/**
 * Why this host cannot run the scenario, or null when it can: root, tcpdump, `ip` and
 * `unshare` on PATH, and a network namespace that can actually be made (a container without
 * CAP_SYS_ADMIN cannot).
 */
export const wireSkipReason = (host: WireHost = currentHost()): string | null => {
  const missing: string[] = []
  if (host.uid !== 0) missing.push('not running as root')
  for (const tool of ['tcpdump', 'ip', 'unshare']) if (!onPath(tool, host.path)) missing.push(`no ${tool} on PATH`)
  if (missing.length === 0) {
    const probe = spawnSync('unshare', ['-n', '--', 'true'], { encoding: 'utf8', env: { ...process.env, PATH: host.path } })
    if (probe.status !== 0) missing.push(`\`unshare -n\` failed (${probe.status ?? probe.signal}): ${probe.stderr.trim()}`)
  }
  if (missing.length === 0) return null
  return `${skippedPrefix}: it runs its peers in a private network namespace (\`unshare -n\`) and captures that ` +
    `namespace's loopback with tcpdump; as root, \`apt-get install -y tcpdump\` (ip and unshare: iproute2, util-linux). Here: ${missing.join('; ')}.`
}

const captureScript = fileURLToPath(new URL('../harness/wire-capture-process.ts', import.meta.url))

export const runWire = async (options: WireOptions): Promise<WireResult> => {
  const skipped = wireSkipReason(options.host)
  if (skipped !== null) return { skipped }
  const loadAverageAtStart = loadavg()
  const directory = mkdtempSync(path.join(tmpdir(), 'trystero-yjs-wire-'))
  try {
    const config: WireCaptureConfig = { sizes: options.sizes, runs: options.runs, edits: options.edits, timeoutMs: options.timeoutMs, directory }
    const configFile = path.join(directory, 'config.json')
    writeFileSync(configFile, JSON.stringify(config))
    const child = spawn('unshare', ['-n', '--', process.execPath, '--import', 'tsx', captureScript, configFile], { stdio: ['ignore', 'inherit', 'inherit'] })
    const code = await new Promise<number | string>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'))
    })
    const resultFile = path.join(directory, 'result.json')
    if (code !== 0 || !existsSync(resultFile)) throw new Error(`the capture process in the network namespace ended with ${code} and no result`)
    const capture = JSON.parse(readFileSync(resultFile, 'utf8')) as WireCaptureResult
    const datagrams = readPcap(path.join(directory, 'capture.pcap'))
    const rows = options.sizes.flatMap((peers) => [ours, yWebrtc].map((contender) => {
      const windows = capture.windows.filter((w) => w.contender === contender.label && w.peers === peers)
      const failures = capture.failures.filter((f) => f.contender === contender.label && f.peers === peers)
      return rowOf(contender.label, peers, options.runs, windows.map((w) => ({ window: w, traffic: trafficIn(datagrams, w.start, w.end) })), failures.map((f) => f.reason))
    }))
    return {
      rows,
      tcpdump: capture.tcpdump,
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown CPU', kernel: release(), loadAverageAtStart, loadAverageAtEnd: loadavg() }
    }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

type Measured = Array<{ window: WireCaptureResult['windows'][number], traffic: WindowTraffic }>

const rowOf = (contender: string, peers: number, runs: number, measured: Measured, failureReasons: string[]): WireRow => {
  const sent = measured.reduce((sum, m) => addAnatomy(sum, m.window.sent), emptyAnatomy())
  const traffic = measured.reduce((sum, m) => addTraffic(sum, m.traffic), emptyTraffic())
  const edits = measured.reduce((n, m) => n + m.window.edits, 0)
  const updates = measured.reduce((u, m) => ({ count: u.count + m.window.localUpdates.count, bytes: u.bytes + m.window.localUpdates.bytes }), { count: 0, bytes: 0 })
  const per = (n: number): number => n / edits
  return {
    contender,
    peers,
    runs,
    measuredRuns: measured.length,
    edits,
    updateBytes: updates.count === 0 ? null : updates.bytes / updates.count,
    perEdit: edits === 0
      ? null
      : {
          yjsUpdate: per(sent.yjsUpdate),
          envelope: per(sent.envelope),
          roomFrame: per(sent.roomFrame),
          actionHeader: per(sent.actionHeader),
          otherSent: per(sent.other),
          sendBytes: per(sent.bytes),
          messages: per(sent.messages),
          datagrams: per(traffic.datagrams),
          sackOnly: per(traffic.sackOnly),
          sctpDtls: per(traffic.udpPayload - sent.bytes),
          udpIp: per(traffic.ipBytes - traffic.udpPayload),
          ipBytes: per(traffic.ipBytes)
        },
    otherKinds: sent.otherKinds,
    sendBytesPerEditByRun: measured.map((m) => m.window.sent.bytes / m.window.edits),
    ipBytesPerEditByRun: measured.map((m) => m.traffic.ipBytes / m.window.edits),
    traffic,
    failures: failureReasons.length,
    failureReasons
  }
}

const pairsOf = (rows: WireRow[]): Array<[WireRow, WireRow]> =>
  [...new Set(rows.map((r) => r.peers))].map((peers) => [rows.find((r) => r.peers === peers && r.contender === ours.label)!, rows.find((r) => r.peers === peers && r.contender === yWebrtc.label)!])

/** Bytes per edit: one decimal, thousands separated (`1,066.7`). */
const bytes = (n: number | undefined): string => n === undefined ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
/** Messages or datagrams per edit. */
const count = (n: number | undefined): string => n === undefined ? '—' : n.toFixed(2)

const range = (values: number[]): string =>
  values.length === 0 ? '—' : values.length === 1 ? bytes(values[0]) : `${bytes(Math.min(...values))}–${bytes(Math.max(...values))}`

const skippedTable = (title: string, skipped: string): Table => ({ title, columns: ['result'], rows: [[skipped]] })

const breakdownTitle = (edits: number): string =>
  `Bytes of one paced edit, send API to IP: one peer types ${edits.toLocaleString('en-US')} characters, one per 10 ms; per edit, all peers (tcpdump on the loopback of a private network namespace)`

export const wireBreakdownTable = (result: WireResult, edits: number): Table => {
  if ('skipped' in result) return skippedTable(breakdownTitle(edits), result.skipped)
  return {
    title: breakdownTitle(edits),
    columns: ['peers', 'contender', 'Yjs update', 'envelope', 'Trystero room frame', 'Trystero action header', 'other sends', '= send API', 'messages', 'datagrams', 'of which SACK-only', 'SCTP + DTLS', 'UDP + IP headers', '= IP bytes', 'IP bytes per run'],
    rows: result.rows.map((r) => {
      const e = r.perEdit ?? undefined
      return [r.peers, r.contender, bytes(e?.yjsUpdate), bytes(e?.envelope), bytes(e?.roomFrame), bytes(e?.actionHeader), bytes(e?.otherSent), bytes(e?.sendBytes),
        count(e?.messages), count(e?.datagrams), count(e?.sackOnly), bytes(e?.sctpDtls), bytes(e?.udpIp), bytes(e?.ipBytes), range(r.ipBytesPerEditByRun)]
    }),
    notes: wireNotes(result)
  }
}

const wireNotes = (result: WireMeasured): string[] => {
  const updates = result.rows.filter((r) => r.updateBytes !== null && r.contender === ours.label).map((r) => `${r.peers} peers ${r.updateBytes!.toFixed(1)}`)
  const stun = result.rows.map((r) => `${r.contender} ${r.peers} peers ${r.traffic.stun.datagrams}`)
  const others = result.rows.map((r) => {
    const kinds = Object.entries(r.otherKinds).map(([kind, { messages, bytes }]) => `${kind} ${messages} (${bytes.toLocaleString('en-US')} B)`)
    return `${r.contender} ${r.peers} peers: ${kinds.length === 0 ? 'none' : kinds.join(', ')}`
  })
  const otherUdp = result.rows.reduce((n, r) => n + r.traffic.other.datagrams, 0)
  const { tcpdump, machine } = result
  return [
    `method: the scenario's coordinator, both signaling servers and every peer process run in a private network namespace made with \`unshare -n\` (its own loopback, nothing else on the machine in it); \`${tcpdump.command}\` (${tcpdump.version}) captures that loopback for the whole run; each run is a fresh room: the peers join 200 ms apart, sync, wait ${settleMs} ms for the join's traffic to end (an attempt whose mesh has not synced within ${syncTimeoutMs / 1000} s is dropped and made again: y-webrtc's offer glare leaves a link dead now and then, more often in the namespace; mesh formation is the mesh scenario's subject), then the window opens at the first keystroke and closes ${tailMs} ms after the last character reached every receiver (for delayed SACKs); windows are cut by wall-clock time (Date.now(), the clock the kernel stamps packets with); figures pool every run's window, per edit; both on node-datachannel, ours from the built package (dist/) configured as in the typing scenario (trickleIce false, awareness state cleared on both sides so neither sends keepalives)`,
    'per edit, all peers, every process: Yjs update = the update bytes inside sent sync-update messages (a receiver that relays an update sends it again); envelope = y-protocols framing of each update (message type, sync type, length: 3 bytes, the same in our frames and y-webrtc\'s); Trystero room frame (3 bytes + 64-hex room token) and action header (36 bytes) = ours only; other sends = any send that is not a Yjs update, whole (framing included); = send API = every byte handed to RTCDataChannel.send, read from those bytes (bench/harness/send-anatomy.ts)',
    `below the send API, from the capture: datagrams = DTLS datagrams (RFC 7983 first byte 20–63); SACK-only = those too small to carry SCTP DATA (UDP payload < ${smallestDataDatagram} B; a SACK alone is 65 B: DTLS 37 + SCTP 12 + SACK 16), SACKs bundled with data (y-webrtc's echoes carry them) are not separable and sit in the next column; SCTP + DTLS = UDP payload − send-API bytes (SCTP common header and DATA chunk headers, padding, SACKs, DTLS record headers, nonces and tags, any heartbeat); UDP + IP headers = 28 B per IPv4 datagram; = IP bytes = IP datagrams' total length (the link layer left out)`,
    `not counted per edit: STUN consent checks (paced by time, not by edits), datagrams in all windows: ${stun.join(', ')}; other UDP: ${otherUdp}; tcpdump: ${tcpdump.captured ?? '?'} packets captured, ${tcpdump.droppedByKernel ?? '?'} dropped by the kernel`,
    `other sends in all windows, messages (bytes): ${others.join('; ')} — ours: the room channel's liveness PING/PONG (PROTOCOL.md §2.3; a peer not heard from for 1.5 s is pinged: receivers that only listen, and the writer that only talks), paced by time, counted here because they are on the wire while one types`,
    `the writer's Yjs update per edit (V1, from its document's \`update\` events, same text for both): ${updates.join(', ')} B (18 B while the writer's clock is below 128, 20 B after)`,
    `machine: ${machine.cores} cores (${machine.cpu}), Linux ${machine.kernel}, load average ${machine.loadAverageAtStart.map((n) => n.toFixed(1)).join(' / ')} at the start, ${machine.loadAverageAtEnd.map((n) => n.toFixed(1)).join(' / ')} at the end (shared with other work: SACK timing, hence datagram counts, can move with load; byte counts above SCTP are exact)`,
    ...result.rows.filter((r) => r.failures > 0).map((r) => {
      const reasons = [...new Set(r.failureReasons)].map((reason) => `${reason} (${r.failureReasons.filter((x) => x === reason).length}×)`)
      return `failed attempts, ${r.contender}, ${r.peers} peers (made again, up to ${maxAttemptsPerRun} × runs; not in the figures): ${reasons.join('; ')}`
    })
  ]
}

const ratioTitle = 'Bytes per paced edit, ours / y-webrtc: at the send API and on the wire (IP bytes), same run'

export const wireRatioTable = (result: WireResult): Table => {
  if ('skipped' in result) return skippedTable(ratioTitle, result.skipped)
  return {
    title: ratioTitle,
    columns: ['peers', 'send API, ours', 'y-webrtc', 'ours / y-webrtc', 'IP bytes, ours', 'y-webrtc', 'ours / y-webrtc', 'messages / edit, ours / y-webrtc', 'runs measured (failed attempts), ours / y-webrtc'],
    rows: pairsOf(result.rows).map(([a, b]) => [a.peers, bytes(a.perEdit?.sendBytes), bytes(b.perEdit?.sendBytes), ratio(a.perEdit?.sendBytes, b.perEdit?.sendBytes),
      bytes(a.perEdit?.ipBytes), bytes(b.perEdit?.ipBytes), ratio(a.perEdit?.ipBytes, b.perEdit?.ipBytes),
      `${count(a.perEdit?.messages)} / ${count(b.perEdit?.messages)}`, `${a.measuredRuns} (${a.failures}) / ${b.measuredRuns} (${b.failures})`]),
    notes: ['y-webrtc relays every update it receives to all its peers (N·(N−1) messages per edit); ours sends each edit once to each other peer (N−1) with Trystero\'s 103 bytes of framing per message']
  }
}

/**
 * The issue's target, judged on IP bytes (what the link carries) and shown on send-API bytes too,
 * each at every N measured.
 */
export const wireTargets = (result: WireResult): string[][] => {
  const target = 'bytes per paced edit ≤ y-webrtc\'s at every N'
  if ('skipped' in result) return [[`${target} (IP bytes, judged)`, result.skipped, 'not measured']]
  const level = (key: 'ipBytes' | 'sendBytes', name: string): string[] => {
    const pairs = pairsOf(result.rows)
    const cells = pairs.map(([a, b]) => a.perEdit === null || b.perEdit === null
      ? `${a.peers} peers: ${a.perEdit === null ? 'ours failed' : `ours ${bytes(a.perEdit[key])} B`}, ${b.perEdit === null ? 'y-webrtc failed' : `y-webrtc ${bytes(b.perEdit[key])} B`}`
      : `${a.peers} peers: ${bytes(a.perEdit[key])} vs ${bytes(b.perEdit[key])} B (${ratio(a.perEdit[key], b.perEdit[key])}×)`)
    const measured = pairs.every(([a, b]) => a.perEdit !== null && b.perEdit !== null)
    const over = pairs.filter(([a, b]) => a.perEdit !== null && b.perEdit !== null && a.perEdit[key] > b.perEdit[key]).map(([a]) => `${a.peers} peers`)
    return [`${target} — ${name}`, cells.join('; '), !measured ? 'not measured (a side failed)' : over.length === 0 ? 'yes' : `no (over at ${over.join(', ')})`]
  }
  return [level('ipBytes', 'on the wire, IP bytes (judged)'), level('sendBytes', 'at the send API, RTCDataChannel.send bytes (shown, not judged)')]
}

