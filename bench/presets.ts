/** How much each benchmark runs: `full` for the README's tables, `quick` for a look, `smoke` for npm test. */
import type { LadderSize } from './harness/documents.js'
import type { HostileOptions } from './scenarios/hostile.js'

export interface BenchPreset {
  join: { sizes: number[], runs: number }
  ladder: { documents: LadderSize[], runs: number }
  /** The initial sync cut into phases (bench/scenarios/sync-phases.ts). */
  syncPhases: { documents: LadderSize[], runs: number }
  /** The initial sync over a 10 Mbit/s, 40 ms link (bench/scenarios/shaped-link.ts). */
  shapedLink: { documents: LadderSize[], runs: number }
  typing: { sizes: number[], runs: number, edits: number }
  /** Two Chromium tabs over the BroadcastChannel: round trips per run (bench/scenarios/tab-latency.ts). */
  tabLatency: { runs: number, edits: number }
  /** Paced typing under tcpdump in a network namespace: bytes per edit from the send API to IP. */
  wire: { sizes: number[], runs: number, edits: number }
  joinWire: { sizes: number[], runs: number }
  mesh: { sizes: Array<{ peers: number, runs: number }>, referenceUpToPeers: number }
  memory: { sizes: number[] }
  /** 16 KiB frames per flood (4,096 = 64 MiB), runs per attack and guard setting. */
  guardFlood: { chunks: number, runs: number }
  keeper: { rooms: number, joiners: number }
  /** Disconnect/connect cycles, and the heap read every `every` of them. */
  cycles: { cycles: number, every: number }
  /** Issue 10's attacks against the provider before and after it (sizes, runs, deadlines). */
  hostile: Omit<HostileOptions, 'contenders' | 'attacks' | 'snapshots'>
  timeoutMs: number
}

export const presets: Record<'full' | 'quick' | 'smoke', BenchPreset> = {
  full: {
    join: { sizes: [2, 5], runs: 5 },
    ladder: { documents: ['100 KB', '250 KB', 'B4', '2 MB', '10 MB', '50 MB'], runs: 3 },
    syncPhases: { documents: ['100 KB', 'B4', '2 MB'], runs: 7 },
    shapedLink: { documents: ['100 KB', '250 KB', 'B4', '2 MB'], runs: 3 },
    typing: { sizes: [2, 5], runs: 3, edits: 1000 },
    tabLatency: { runs: 5, edits: 200 },
    wire: { sizes: [2, 5], runs: 3, edits: 1000 },
    joinWire: { sizes: [2, 5], runs: 3 },
    mesh: { sizes: [{ peers: 5, runs: 10 }, { peers: 10, runs: 10 }, { peers: 20, runs: 3 }], referenceUpToPeers: 10 },
    memory: { sizes: [2, 10] },
    guardFlood: { chunks: 4096, runs: 3 },
    keeper: { rooms: 100, joiners: 5 },
    cycles: { cycles: 1000, every: 50 },
    hostile: {
      runs: 3,
      unclaimedChunks: 4096,
      step1: { requests: 500, documentChars: 1024 * 1024 },
      missingHistory: [{ updates: 5000, runs: 3 }, { updates: 20_000, runs: 1 }],
      silentDeadlineMs: 60_000,
      killDeadlineMs: 60_000,
      probeIntervalMs: 50,
      settleMs: 10_000,
      allocatorCheck: true
    },
    timeoutMs: 30_000
  },
  quick: {
    join: { sizes: [2, 5], runs: 2 },
    ladder: { documents: ['100 KB', 'B4', '2 MB', '10 MB'], runs: 1 },
    syncPhases: { documents: ['100 KB', 'B4'], runs: 3 },
    shapedLink: { documents: ['100 KB', 'B4'], runs: 1 },
    typing: { sizes: [2, 5], runs: 1, edits: 300 },
    tabLatency: { runs: 2, edits: 100 },
    wire: { sizes: [2, 5], runs: 1, edits: 300 },
    joinWire: { sizes: [2, 5], runs: 1 },
    mesh: { sizes: [{ peers: 5, runs: 3 }, { peers: 10, runs: 2 }], referenceUpToPeers: 5 },
    memory: { sizes: [2] },
    guardFlood: { chunks: 4096, runs: 1 },
    keeper: { rooms: 100, joiners: 2 },
    cycles: { cycles: 200, every: 50 },
    hostile: {
      runs: 1,
      unclaimedChunks: 4096,
      step1: { requests: 200, documentChars: 1024 * 1024 },
      missingHistory: [{ updates: 5000, runs: 1 }],
      silentDeadlineMs: 30_000,
      killDeadlineMs: 45_000,
      probeIntervalMs: 50,
      settleMs: 10_000,
      allocatorCheck: false
    },
    timeoutMs: 30_000
  },
  smoke: {
    join: { sizes: [2, 3], runs: 1 },
    ladder: { documents: ['100 KB'], runs: 1 },
    syncPhases: { documents: ['100 KB'], runs: 1 },
    shapedLink: { documents: ['100 KB'], runs: 1 },
    typing: { sizes: [2], runs: 1, edits: 20 },
    tabLatency: { runs: 1, edits: 10 },
    wire: { sizes: [2], runs: 1, edits: 20 },
    joinWire: { sizes: [2], runs: 1 },
    mesh: { sizes: [{ peers: 3, runs: 1 }], referenceUpToPeers: 0 },
    memory: { sizes: [2] },
    guardFlood: { chunks: 256, runs: 1 },
    keeper: { rooms: 3, joiners: 1 },
    cycles: { cycles: 4, every: 2 },
    // Each attack once, just past the limits the provider enforces by default (maxHeldBytes
    // 4 MiB, maxPendingUpdates 256).
    hostile: {
      runs: 1,
      unclaimedChunks: 512,
      step1: { requests: 20, documentChars: 64 * 1024 },
      missingHistory: [{ updates: 300, runs: 1 }],
      silentDeadlineMs: 20_000,
      killDeadlineMs: 30_000,
      probeIntervalMs: 50,
      // Memory figures are not the smoke's concern.
      settleMs: 0,
      allocatorCheck: false
    },
    timeoutMs: 30_000
  }
}
