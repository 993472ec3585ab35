/**
 * The wire scenario's coordinator inside a private network namespace (bench/scenarios/wire.ts
 * starts it with `unshare -n`): brings up that namespace's loopback, captures it with tcpdump,
 * and runs paced typing there — signaling servers and peer processes are its children, so they
 * share the namespace and nothing else on the machine reaches the capture. Writes each typing
 * window (its time span and the peers' send counters) and tcpdump's own counts to `result.json`
 * beside the capture; the scenario reads the capture afterwards.
 *
 * `node --import tsx bench/harness/wire-capture-process.ts <config.json>`
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { ours, yWebrtc, type Contender } from './contenders.js'
import type { Counters } from './protocol.js'
import { join, staggerMs, waitSynced, withRoom } from './rooms.js'
import { addAnatomy, emptyAnatomy, type SendAnatomy } from './send-anatomy.js'

export interface WireCaptureConfig {
  sizes: number[]
  /** Measured runs wanted per contender and size; failed attempts are retried up to `maxAttemptsPerRun` × runs. */
  runs: number
  edits: number
  /** For the last edit to reach every receiver. */
  timeoutMs: number
  /** Where the capture (`capture.pcap`) and `result.json` go. */
  directory: string
}

/** One typing run, as the capture will be cut: from `start` to `end`, ms since the epoch. */
export interface WireWindow {
  contender: string
  peers: number
  /** Which attempt at this contender and size (failed ones included), from 0. */
  attempt: number
  edits: number
  start: number
  end: number
  /** Every peer's sends in the window, by layer. */
  sent: SendAnatomy
  /** The writer's Yjs updates (one per edit when paced). */
  localUpdates: { count: number, bytes: number }
}

export interface WireFailure { contender: string, peers: number, attempt: number, reason: string }

export interface TcpdumpStats { captured: number | null, receivedByFilter: number | null, droppedByKernel: number | null }

export interface WireCaptureResult {
  windows: WireWindow[]
  failures: WireFailure[]
  tcpdump: TcpdumpStats & { command: string, version: string }
}

/** Capture filter and snap length: UDP only (signaling is TCP); 96 bytes reach past the UDP header. */
export const captureFilter = 'udp'
export const snapLength = 96
/** After the last arrival, so the receivers' delayed SACKs (200 ms timer) fall inside the window. */
export const tailMs = 300
/** After the mesh synced, so the join's traffic (handshakes, sync, their SACKs) is over before the window. */
export const settleMs = 500
/**
 * For the mesh to sync: both form a 5-peer mesh in 1–2 s on loopback when they do. y-webrtc's
 * offer glare on node-datachannel leaves a link dead in some attempts (more often in the namespace
 * than on the host's loopback: 3 of 4 vs 1 of 4 at 5 peers in one check); mesh formation is the
 * mesh scenario's subject, so here a failed attempt is reported and another one made.
 */
export const syncTimeoutMs = 15_000
export const maxAttemptsPerRun = 3

const startTcpdump = async (file: string): Promise<{ child: ChildProcess, stderr: () => string }> => {
  // -U: each packet written as it comes, so nothing is left in a buffer at SIGINT.
  const child = spawn('tcpdump', ['-i', 'lo', '-n', '-U', '-s', String(snapLength), '-w', file, captureFilter], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start listening within 10 s: ${stderr}`)), 10_000)
    const onData = (): void => {
      if (!stderr.includes('listening on')) return
      clearTimeout(timer)
      child.stderr!.off('data', onData)
      resolve()
    }
    child.stderr!.on('data', onData)
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`tcpdump exited (${code}): ${stderr}`)) })
  })
  return { child, stderr: () => stderr }
}

const stopTcpdump = async ({ child, stderr }: { child: ChildProcess, stderr: () => string }): Promise<TcpdumpStats> => {
  if (child.exitCode === null && child.signalCode === null) {
    const closed = new Promise((resolve) => child.once('close', resolve))
    child.kill('SIGINT')
    await closed
  }
  const count = (what: string): number | null => {
    const match = new RegExp(`(\\d+) packets? ${what}`).exec(stderr())
    return match === null ? null : Number(match[1])
  }
  return { captured: count('captured'), receivedByFilter: count('received by filter'), droppedByKernel: count('dropped by kernel') }
}

const sumAnatomy = (counters: Counters[]): SendAnatomy =>
  counters.reduce((sum, c) => addAnatomy(sum, c.anatomy?.sent ?? emptyAnatomy()), emptyAnatomy())

const measure = async (contender: Contender, count: number, attempt: number, config: WireCaptureConfig): Promise<WireWindow> =>
  await withRoom(contender, async (room) => {
    const peers = await room.spawn(count, undefined, { anatomy: true })
    await join(peers, staggerMs)
    await waitSynced(peers, count - 1, syncTimeoutMs)
    // No event says the join's last SACK has left: its traffic is given time to end outside the window.
    await new Promise((resolve) => setTimeout(resolve, settleMs))
    await Promise.all(peers.map(async (p) => await p.request({ type: 'reset-counters' })))
    const [writer, ...receivers] = peers
    await Promise.all(receivers.map(async (p) => await p.request({ type: 'watch' })))
    // Date.now(): the wall clock the kernel stamps captured packets with.
    const start = Date.now()
    await writer!.request({ type: 'type', count: config.edits, intervalMs: 10 })
    await Promise.all(receivers.map(async (p) => await p.request({ type: 'arrivals', count: config.edits, timeoutMs: config.timeoutMs })))
    await new Promise((resolve) => setTimeout(resolve, tailMs))
    const end = Date.now()
    const counters = await Promise.all(peers.map(async (p) => await p.request<Counters>({ type: 'counters' })))
    const localUpdates = counters[0]!.anatomy?.localUpdates ?? { count: 0, bytes: 0 }
    return { contender: contender.label, peers: count, attempt, edits: config.edits, start, end, sent: sumAnatomy(counters), localUpdates }
  })

if (import.meta.url === `file://${process.argv[1]}`) {
  const configFile = process.argv[2]
  if (configFile === undefined) throw new Error('wire-capture-process: pass the config file')
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as WireCaptureConfig
  const up = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' })
  if (up.status !== 0) throw new Error(`ip link set lo up failed (${up.status}): ${up.stderr}`)
  const version = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'unknown'
  const file = `${config.directory}/capture.pcap`
  const tcpdump = await startTcpdump(file)
  const windows: WireWindow[] = []
  const failures: WireFailure[] = []
  let stats: TcpdumpStats
  try {
    // Contenders alternate attempt by attempt, so a change in the machine's load falls on both.
    for (const peers of config.sizes) {
      const attempts = new Map<Contender, number>([[ours, 0], [yWebrtc, 0]])
      const measured = new Map<Contender, number>([[ours, 0], [yWebrtc, 0]])
      const wanting = (): Contender[] => [ours, yWebrtc].filter((c) => measured.get(c)! < config.runs && attempts.get(c)! < config.runs * maxAttemptsPerRun)
      for (let round = wanting(); round.length > 0; round = wanting()) {
        for (const contender of round) {
          const attempt = attempts.get(contender)!
          attempts.set(contender, attempt + 1)
          try {
            const window = await measure(contender, peers, attempt, config)
            windows.push(window)
            measured.set(contender, measured.get(contender)! + 1)
            console.error(`wire: ${contender.label}, ${peers} peers, attempt ${attempt + 1}: ${(window.sent.bytes / window.edits).toFixed(1)} B/edit at the send API`)
          } catch (error) {
            const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200)
            failures.push({ contender: contender.label, peers, attempt, reason })
            console.error(`wire: ${contender.label}, ${peers} peers, attempt ${attempt + 1} failed: ${reason}`)
          }
        }
      }
    }
  } finally {
    stats = await stopTcpdump(tcpdump)
  }
  const result: WireCaptureResult = {
    windows,
    failures,
    tcpdump: { ...stats, command: `tcpdump -i lo -n -U -s ${snapLength} -w capture.pcap ${captureFilter}`, version }
  }
  writeFileSync(`${config.directory}/result.json`, JSON.stringify(result, null, 2))
  // Timers of closed providers must not keep the namespace (and the scenario) waiting.
  process.exit(0)
}
