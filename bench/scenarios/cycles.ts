/**
 * Scenario 7, cycles: one peer calls `provider.disconnect()` then `provider.connect()` again and
 * again while another stays; each cycle waits until the other peer has seen it go, and then until
 * both are synced with each other again. The heap of both (after forced GCs) is read every
 * `every` cycles. A reconnect must not cost memory: the table shows whether the heap stays flat.
 *
 * Three runs: over WebRTC with a new connection each cycle (the left connection is closed at once,
 * as in the other scenarios); over WebRTC with Trystero's default, which keeps a connection 123 s
 * after its last room is left, so that a prompt rejoin reuses it; and on the in-memory network
 * (cycles-memory-process.ts), without Trystero, WebRTC or MQTT, to tell growth in trystero-yjs
 * from growth below it.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ours } from '../harness/contenders.js'
import type { PeerHandle } from '../harness/peer-handle.js'
import { join, waitSynced, withRoom } from '../harness/rooms.js'
import { median, reason, type Table } from '../support/report.js'

export interface CyclesOptions {
  cycles: number
  /** Read the heap every this many cycles (and before the first). */
  every: number
  /** How long one reconnection may take before the run is given up. */
  reconnectTimeoutMs: number
  /** Write heap snapshots of both WebRTC peers after these cycles, into `directory` (for heap-diff.ts). */
  snapshots?: { cycles: number[], directory: string }
  /** Which runs; default all three. ('connection kept' can hang on a Trystero bug until its timeout.) */
  networks?: CyclesNetwork[]
}

export interface CyclesReading {
  cycle: number
  cyclingMB: number
  stayingMB: number
}

export type CyclesNetwork = 'new connection' | 'connection kept' | 'memory'

export interface CyclesRun {
  network: CyclesNetwork
  readings: CyclesReading[]
  /** Cycles completed (all of them, unless the run failed). */
  completed: number
  /** ms per cycle: median (WebRTC) or mean (memory network, timed as a whole). */
  msPerCycle: number | null
  /** The slowest cycle, ms (WebRTC). */
  slowestMs: number | null
  /** Cycles that took over `slowCycleMs` (WebRTC). */
  slowCycles: number
  failureReason: string | null
}

/** A reconnection slower than this waited for a Trystero timer, not for the network (see the table notes). */
export const slowCycleMs = 5000

/** Above Trystero's 23 s answer and offer expiry plus its 60 s announce interval: a slow cycle completes. */
export const reconnectTimeoutMs = 90_000

/**
 * A kept connection reattaches in milliseconds, or never: when the handshake it needs is lost (see
 * the table notes) nothing retries it. Waiting past Trystero's 10 s handshake timeout is enough.
 */
const keptReconnectTimeoutMs = 30_000

export const runCycles = async (options: CyclesOptions): Promise<CyclesRun[]> => {
  const runs: CyclesRun[] = []
  for (const network of options.networks ?? ['new connection', 'connection kept', 'memory'] as const) {
    runs.push(network === 'memory' ? await runMemoryNetwork(options) : await runWebrtc(network, options))
  }
  return runs
}

const mb = (bytes: number): number => bytes / 1024 / 1024

const runWebrtc = async (network: 'new connection' | 'connection kept', options: CyclesOptions): Promise<CyclesRun> => await withRoom(ours, async (room) => {
  const readings: CyclesReading[] = []
  const durations: number[] = []
  const result = (failureReason: string | null): CyclesRun => ({
    network,
    readings,
    completed: durations.length,
    msPerCycle: durations.length === 0 ? null : median(durations),
    slowestMs: durations.length === 0 ? null : Math.max(...durations),
    slowCycles: durations.filter((ms) => ms > slowCycleMs).length,
    failureReason
  })
  let phase = 'start'
  try {
    const [cycling, staying] = await room.spawn(2, undefined, { keepConnections: network === 'connection kept' }) as [PeerHandle, PeerHandle]
    await join([cycling, staying])
    await waitSynced([cycling, staying], 1, options.reconnectTimeoutMs)
    const timeoutMs = network === 'connection kept' ? Math.min(keptReconnectTimeoutMs, options.reconnectTimeoutMs) : options.reconnectTimeoutMs
    const read = async (cycle: number): Promise<void> => {
      const [a, b] = await Promise.all([cycling, staying].map(async (p) => await p.request<NodeJS.MemoryUsage>({ type: 'memory' })))
      readings.push({ cycle, cyclingMB: mb(a!.heapUsed), stayingMB: mb(b!.heapUsed) })
    }
    await read(0)
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const start = performance.now()
      phase = `cycle ${cycle}, disconnect`
      await cycling.request({ type: 'disconnect' })
      // The other side has seen us go (synced with nobody), so the next wait is for the new link.
      phase = `cycle ${cycle}, the staying peer seeing the other go`
      await waitSynced([staying], 0, timeoutMs)
      phase = `cycle ${cycle}, reconnection`
      await cycling.request({ type: 'connect' })
      await waitSynced([cycling, staying], 1, timeoutMs)
      durations.push(performance.now() - start)
      if (cycle % options.every === 0) await read(cycle)
      if (options.snapshots?.cycles.includes(cycle) === true) {
        const name = `${options.snapshots.directory}/${network.replace(' ', '-')}`
        await cycling.request({ type: 'heap-snapshot', path: `${name}-cycling-${cycle}.heapsnapshot` })
        await staying.request({ type: 'heap-snapshot', path: `${name}-staying-${cycle}.heapsnapshot` })
      }
    }
  } catch (error) {
    return result(`${phase}: ${reason(error)}`)
  }
  return result(null)
})

const memoryScript = fileURLToPath(new URL('../harness/cycles-memory-process.ts', import.meta.url))
const run = promisify(execFile)

const runMemoryNetwork = async (options: CyclesOptions): Promise<CyclesRun> => {
  const start = performance.now()
  const base = { network: 'memory' as const, slowestMs: null, slowCycles: 0 }
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--expose-gc', memoryScript, String(options.cycles), String(options.every)], { timeout: 600_000 })
    const readings = JSON.parse(stdout) as CyclesReading[]
    return { ...base, readings, completed: options.cycles, msPerCycle: (performance.now() - start) / options.cycles, failureReason: null }
  } catch (error) {
    return { ...base, readings: [], completed: 0, msPerCycle: null, failureReason: reason(error) }
  }
}

/**
 * KB per cycle: the least-squares slope of the readings from cycle `from` on (the first cycles
 * also warm up V8's compiled code and Node's lazy internals, which is not growth).
 */
export const kbPerCycle = (readings: CyclesReading[], key: 'cyclingMB' | 'stayingMB', from: number): number | null => {
  const points = readings.filter((r) => r.cycle >= from)
  if (points.length < 2) return null
  const meanX = points.reduce((s, p) => s + p.cycle, 0) / points.length
  const meanY = points.reduce((s, p) => s + p[key], 0) / points.length
  const num = points.reduce((s, p) => s + (p.cycle - meanX) * (p[key] - meanY), 0)
  const den = points.reduce((s, p) => s + (p.cycle - meanX) ** 2, 0)
  return (num / den) * 1024
}

/** The second half of a run (from its last reading's half, on a reading), where warm-up is over. */
export const secondHalfFrom = (cycles: number, every: number): number => Math.max(every, Math.floor(cycles / 2 / every) * every)

export const cyclesTable = (runs: CyclesRun[], options: Pick<CyclesOptions, 'every' | 'cycles'>): Table => {
  const by = (network: CyclesNetwork): CyclesRun | undefined => runs.find((r) => r.network === network)
  const [fresh, kept, memory] = [by('new connection'), by('connection kept'), by('memory')]
  const cycles = [...new Set(runs.flatMap((r) => r.readings.map((x) => x.cycle)))].sort((a, b) => a - b)
  const at = (run: CyclesRun | undefined, cycle: number, key: 'cyclingMB' | 'stayingMB'): string =>
    run?.readings.find((r) => r.cycle === cycle)?.[key].toFixed(2) ?? '—'
  // From the first reading after cycle 0 (the very first cycles warm up compiled code), and over
  // the second half, where V8's code and hash tables have mostly reached their size.
  const from = options.every
  const half = secondHalfFrom(options.cycles, options.every)
  const slope = (run: CyclesRun | undefined, key: 'cyclingMB' | 'stayingMB', start: number): string => {
    const value = run === undefined ? null : kbPerCycle(run.readings, key, start)
    return value === null ? '—' : value.toFixed(2)
  }
  const slopes = (start: number): string[] =>
    [slope(fresh, 'cyclingMB', start), slope(fresh, 'stayingMB', start), slope(kept, 'cyclingMB', start), slope(kept, 'stayingMB', start), slope(memory, 'cyclingMB', start)]
  const timing = (run: CyclesRun): string => run.network === 'memory'
    ? `memory network: ${run.completed} cycles, ${run.msPerCycle?.toFixed(2) ?? '—'} ms per cycle (mean)`
    : `${run.network}: ${run.completed} cycles, ${run.msPerCycle?.toFixed(0) ?? '—'} ms per cycle (median), slowest ${run.slowestMs?.toFixed(0) ?? '—'} ms, ${run.slowCycles} over ${slowCycleMs / 1000} s`
  return {
    title: 'Reconnect cycles: heap (MB, after forced GCs) of a peer that disconnects and connects again, and of the peer it syncs with',
    columns: ['after cycle', 'new connection: cycling peer', 'staying peer', 'connection kept: cycling peer', 'staying peer', 'memory network: both peers, one process'],
    rows: [
      ...cycles.map((cycle) => [cycle, at(fresh, cycle, 'cyclingMB'), at(fresh, cycle, 'stayingMB'), at(kept, cycle, 'cyclingMB'), at(kept, cycle, 'stayingMB'), at(memory, cycle, 'cyclingMB')]),
      [`KB per cycle from cycle ${from}`, ...slopes(from)],
      ...(half > from ? [[`KB per cycle from cycle ${half}`, ...slopes(half)]] : [])
    ],
    notes: [
      'a cycle: `provider.disconnect()`; the other peer sees it go; `provider.connect()`; both synced with each other again',
      'WebRTC: one peer per process, MQTT strategy on the embedded broker, node-datachannel on loopback, our build from dist/. "New connection": a left connection is closed at once (`_test_only_sharedPeerIdleMs: 0`, as in the other scenarios), so every cycle sets up WebRTC anew; "connection kept": Trystero\'s default keeps it 123 s, and the rejoin reuses it',
      'memory network: both providers in one process on src/testing\'s MemoryNetwork (no Trystero, WebRTC or MQTT)',
      'KB per cycle: least-squares slope of the readings from that cycle on. The memory network shows what V8 alone adds while it goes on compiling and optimizing (code counts in the heap); it levels off after a few thousand cycles',
      ...runs.map(timing),
      'both WebRTC runs trip on one thing in Trystero: after `leave()` sends its goodbye, the room goes on announcing itself and answering signaling for the 99 ms it waits before it unsubscribes',
      `new connection, a cycle over ${slowCycleMs / 1000} s: the other peer re-announced when the connection closed, the leaving peer answered in that window and dropped the half-made connection; the other peer then ignores it until that offer or answer expires (23 s) and the next announce comes`,
      'connection kept, a run that stops: an announce of the leaving room reached the other peer just after the goodbye, so it attached the kept connection to the room again and sent its handshake-ready, which the leaving room discarded; the rejoined room never gets one and times out (10 s), while the other peer counts it connected. Reported, not required: the heap figures are the cycles before',
      ...runs.filter((r) => r.failureReason !== null).map((r) => `${r.network}: failed after ${r.completed} cycles: ${r.failureReason}`)
    ]
  }
}
