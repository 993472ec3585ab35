/**
 * What each attack of issue 10 costs a victim, before issue 10 (commit a60587c, built by
 * build-at.ts) and after (this repository's dist/): per attack, a fresh room on the embedded
 * MQTT broker with three processes on node-datachannel — the victim, an honest third peer that
 * edits every `probeIntervalMs`, and the attacker (a raw Trystero member, guard-attacker-process,
 * or a provider peer to be killed). Measured in the victim: RSS at rest before, its peak during
 * the attack, at rest after it (attacker still connected) and at rest once the attacker is gone;
 * the event loop's delay during the attack; how late the third peer's edits arrived; whether it
 * lived, and what it reported.
 */
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { startLocalMqttBroker } from '../../src/node/index.js'
import { ChildPeer } from '../harness/child-peer.js'
import type { HostilePeerConfig } from '../harness/hostile-peer-process.js'
import type { StallReading } from '../harness/stall-gauge.js'
import { reason } from '../support/report.js'

const peerScript = fileURLToPath(new URL('../harness/hostile-peer-process.ts', import.meta.url))
const attackerScript = fileURLToPath(new URL('../harness/guard-attacker-process.ts', import.meta.url))
const appId = 'trystero-yjs-bench-hostile'
const MiB = 1024 * 1024
/** The shortest window measured: a one-frame attack still gets this many ms of probes. */
const minWindowMs = 2000
/** The step 1 flood is over once no answer reached the attacker for this long, twice, the victim responsive in between. */
const answersQuietMs = 3000

export type HostileAttackKind = 'broken JSON payload' | 'broken JSON metadata' | 'unclaimed names' | 'step 1 flood' | 'missing history' | 'silent peer' | 'SIGKILL'

export interface HostileOptions {
  /** Which contenders, each with its build. */
  contenders: Array<{ label: 'before' | 'after', dist: string }>
  runs: number
  /** 16 KiB frames to names nobody listens to (4,096 = 64 MiB). */
  unclaimedChunks: number
  step1: { requests: number, documentChars: number }
  /** Updates whose history is missing, and runs of each (the largest is slow before). */
  missingHistory: Array<{ updates: number, runs: number }>
  /** How long a victim may take to be synced despite a silent peer, or to drop a killed one. */
  silentDeadlineMs: number
  killDeadlineMs: number
  probeIntervalMs: number
  /** The victim's RSS at rest before the attack is read this long after setup at least, once still for 4 s (0: at once). */
  settleMs: number
  /** Also run the step 1 flood with {@link mmapEverything} in the victim: is its memory held, or kept by malloc? */
  allocatorCheck: boolean
  /** Only these attacks (default: all). */
  attacks?: HostileAttackKind[]
  /** A directory for heap snapshots of the victim at rest before the attack and after the attacker left. */
  snapshots?: string
}

export interface HostileCase {
  kind: HostileAttackKind
  label: string
  size?: number
  runs: number
  /** Set in the victim's environment. */
  victimEnv?: Record<string, string>
}

/**
 * glibc's malloc then maps every block of 4 KiB or more on its own and unmaps it when freed: RSS
 * shows only what is still allocated, not what malloc keeps for reuse.
 */
export const mmapEverything = { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=4096' }

export const hostileCases = (options: HostileOptions): HostileCase[] => allCases(options).filter((c) => options.attacks?.includes(c.kind) ?? true)

const allCases = (options: HostileOptions): HostileCase[] => [
  { kind: 'broken JSON payload', label: '1. one frame, broken JSON payload', runs: options.runs },
  { kind: 'broken JSON metadata', label: '1. one frame, broken JSON metadata', runs: options.runs },
  { kind: 'unclaimed names', label: `2. ${(options.unclaimedChunks * 16 / 1024).toLocaleString('en-US')} MiB to names nobody listens to`, size: options.unclaimedChunks, runs: options.runs },
  { kind: 'step 1 flood', label: step1Label(options), size: options.step1.requests, runs: options.runs },
  ...(options.allocatorCheck ? [{ kind: 'step 1 flood', label: `${step1Label(options)}, victim's malloc mapping each block ≥ 4 KiB`, size: options.step1.requests, runs: 1, victimEnv: mmapEverything } satisfies HostileCase] : []),
  ...options.missingHistory.map(({ updates, runs }): HostileCase => ({ kind: 'missing history', label: `4. ${updates.toLocaleString('en-US')} updates, history missing`, size: updates, runs })),
  { kind: 'silent peer', label: '5. announces the document, never answers', runs: options.runs },
  { kind: 'SIGKILL', label: '6. a peer killed (SIGKILL)', runs: options.runs }
]

const step1Label = (options: HostileOptions): string =>
  `3. ${options.step1.requests} step 1s, ${(options.step1.documentChars / MiB).toFixed(options.step1.documentChars < MiB ? 2 : 0)} MiB document`

export interface Memory { rss: number, heapUsed: number, external: number, arrayBuffers: number }
interface Report { kind: 'error' | 'warning', message: string, peerId?: string, limit?: string, at: number }

export interface HostileRun {
  survived: boolean
  /** Why the victim died, or why the run failed. */
  failure: string | null
  /** At rest before the attack; at rest after it with the attacker connected (if it still was); at rest once it left. */
  memory: { before: Memory | null, held: Memory | null, gone: Memory | null }
  stall: StallReading | null
  /** How long each of the third peer's edits took to reach the victim during the attack, ms. */
  latencies: number[]
  probesSent: number
  /** The silent peer: ms from the victim listing it until it was synced again; SIGKILL: ms from the kill until the victim dropped the peer. */
  figureMs: number | null
  /** Step 1 answers the attacker got. */
  answers: number | null
  /** Why the attacker was not seen to leave the victim's room (null: it was). */
  attackerLingered: string | null
  reports: Report[]
}

export interface HostileResult { attack: HostileCase, contender: 'before' | 'after', runs: HostileRun[] }

export const runHostile = async (options: HostileOptions, log: (line: string) => void = () => {}): Promise<HostileResult[]> => {
  const broker = await startLocalMqttBroker()
  const results: HostileResult[] = []
  try {
    for (const attack of hostileCases(options)) {
      for (const contender of options.contenders) {
        const runs: HostileRun[] = []
        for (let run = 0; run < attack.runs; run++) {
          const started = Date.now()
          runs.push(await runOnce(broker.url, contender, attack, options, run))
          log(`hostile: ${attack.label}, ${contender.label}, run ${run + 1}/${attack.runs}: ${((Date.now() - started) / 1000).toFixed(1)} s${runs.at(-1)!.failure === null ? '' : ` (${runs.at(-1)!.failure})`}`)
        }
        results.push({ attack, contender: contender.label, runs })
      }
    }
  } finally {
    await broker.close()
  }
  return results
}

const now = (): number => performance.timeOrigin + performance.now()

const runOnce = async (brokerUrl: string, contender: { label: string, dist: string }, attack: HostileCase, options: HostileOptions, index: number): Promise<HostileRun> => {
  const roomId = `hostile-${process.pid}-${Math.random().toString(36).slice(2)}`
  const peerConfig = (extra: Partial<HostilePeerConfig> = {}): Record<string, string> => ({
    HOSTILE_PEER_CONFIG: JSON.stringify({ dist: contender.dist, brokerUrl, appId, roomId, ...extra } satisfies HostilePeerConfig),
    NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --experimental-import-meta-resolve`.trim()
  })
  const result: HostileRun = { survived: true, failure: null, memory: { before: null, held: null, gone: null }, stall: null, latencies: [], probesSent: 0, figureMs: null, answers: null, attackerLingered: null, reports: [] }
  const children: ChildPeer[] = []
  const spawn = async (script: string, env: Record<string, string>): Promise<ChildPeer> => {
    const child = await ChildPeer.spawn(script, env)
    children.push(child)
    return child
  }
  const raw = attack.kind !== 'SIGKILL'
  let victim: ChildPeer | null = null
  try {
    const [v, honest, attacker] = await Promise.all([
      spawn(peerScript, { ...peerConfig(attack.kind === 'step 1 flood' ? { documentChars: options.step1.documentChars } : {}), ...attack.victimEnv }),
      spawn(peerScript, peerConfig()),
      raw ? spawn(attackerScript, { GUARD_ATTACKER_CONFIG: JSON.stringify({ brokerUrl, appId }) }) : spawn(peerScript, peerConfig())
    ])
    victim = v
    const ids = await Promise.all([v, honest, attacker].map(async (p) => (await p.request<{ selfId: string }>('state')).selfId))
    const [victimId, honestId, attackerId] = ids as [string, string, string]
    const setupMs = 60_000
    await Promise.all([v.request('wait-synced-with', { peerId: honestId, deadlineMs: setupMs }, setupMs + 5000), honest.request('wait-synced-with', { peerId: victimId, deadlineMs: setupMs }, setupMs + 5000)])
    if (raw) {
      await attacker.request('join', { roomId, victimId }, setupMs)
      await v.request('wait-room-peer', { peerId: attackerId })
      if (attack.kind === 'step 1 flood' || attack.kind === 'missing history') {
        await attacker.request('announce')
        await v.request('wait-listed', { peerId: attackerId })
      }
    } else {
      await v.request('wait-synced-with', { peerId: attackerId, deadlineMs: setupMs }, setupMs + 5000)
    }
    const snapshot = async (stage: string): Promise<void> => {
      if (options.snapshots === undefined) return
      await v.request('heap-snapshot', { path: join(options.snapshots, `${contender.label}-${attack.kind.replace(/\W+/g, '-')}-${attack.size ?? ''}-run${index + 1}-${stage}.heapsnapshot`) }, 300_000)
    }
    // At rest: V8 hands pages back 6–9 s after a peer's setup; RSS then holds still.
    result.memory.before = await v.request<Memory>('memory', options.settleMs === 0 ? {} : { everyMs: 1000, stillMs: 4000, minMs: options.settleMs }, 60_000)
    await snapshot('before')
    await v.request('probe-reset')
    await v.request('gauge-start')
    await honest.request('probe-start', { intervalMs: options.probeIntervalMs })
    const startedAt = now()
    const died = v.exited.then((exit) => `victim died (${exit.code ?? exit.signal}): ${/^\w*Error\b.*$/m.exec(exit.stderr)?.[0] ?? exit.stderr.trim().split('\n').at(-1) ?? ''}`)

    // The attack, until its end: the victim handled all of it, or cut the attacker off, or died.
    const attackDone = (async (): Promise<void> => {
      switch (attack.kind) {
        case 'broken JSON payload':
        case 'broken JSON metadata':
          await attacker.request('attack', { attack: attack.kind, chunks: 1 })
          await v.request('wait-room-gone', { peerId: attackerId, deadlineMs: 10_000 }).catch(() => {})
          return
        case 'unclaimed names': {
          const receivedBefore = await v.request<number>('received', { peerId: attackerId })
          // A victim that cuts the attacker off before it has queued every frame closes the channel
          // under its sends: that is the attack's end (the victim handled it), not a failed run.
          const sent = await attacker.request<number>('attack', { attack: 'unclaimed names', chunks: attack.size }, 300_000).catch((error: Error) => {
            if (/DataChannel is closed/.test(error.message)) return null
            throw error
          })
          if (sent === null) await v.request('wait-room-gone', { peerId: attackerId, deadlineMs: 10_000 }).catch(() => {})
          else await v.request('wait-received', { peerId: attackerId, bytes: receivedBefore + sent, deadlineMs: 300_000 }, 310_000)
          return
        }
        case 'step 1 flood': {
          await attacker.request('send-doc', { kind: 'step1', count: attack.size }, 300_000)
          await attacker.request('send-doc', { kind: 'marker', marker: 'end-of-step1s' }, 300_000)
          await v.request('wait-text', { includes: 'end-of-step1s', deadlineMs: 300_000 }, 310_000)
          // Quiet at the attacker may be the victim stalled mid-answers: quiet again after the
          // victim has answered us (its event loop ran) before it counts as the end.
          let answers = -1
          for (;;) {
            const { count } = await attacker.request<{ count: number }>('answers', { quietMs: answersQuietMs, deadlineMs: 300_000 }, 310_000)
            await v.request('state', {}, 300_000)
            if (count === answers) break
            answers = count
          }
          result.answers = answers
          return
        }
        case 'missing history': {
          const deadlineMs = 1_800_000
          await attacker.request('send-doc', { kind: 'missing-history', count: attack.size }, deadlineMs)
          await attacker.request('send-doc', { kind: 'marker', marker: 'end-of-flood' }, deadlineMs)
          // Handled to the end (the marker came after it), or the attacker was cut off.
          await Promise.race([
            v.request('wait-text', { includes: 'end-of-flood', deadlineMs }, deadlineMs + 10_000),
            v.request('wait-room-gone', { peerId: attackerId, deadlineMs }, deadlineMs + 10_000)
          ])
          return
        }
        case 'silent peer': {
          await attacker.request('announce')
          const listedAt = await v.request<number>('wait-listed', { peerId: attackerId })
          const syncedAt = await v.request<number | null>('wait-synced', { after: listedAt, deadlineMs: options.silentDeadlineMs }, options.silentDeadlineMs + 10_000).catch(() => null)
          result.figureMs = syncedAt === null ? null : syncedAt - listedAt
          return
        }
        case 'SIGKILL': {
          const killedAt = now()
          attacker.signal('SIGKILL')
          const droppedAt = await v.request<number | null>('wait-dropped', { peerId: attackerId, deadlineMs: options.killDeadlineMs }, options.killDeadlineMs + 10_000).catch(() => null)
          result.figureMs = droppedAt === null ? null : droppedAt - killedAt
        }
      }
    })()
    // A victim that dies fails every request it had: the attack ends either way.
    const attackError = await attackDone.then(() => null, (error: unknown) => error)
    if (!v.alive) {
      result.survived = false
      result.failure = await died
    } else if (attackError !== null) {
      throw attackError
    }
    const windowMs = now() - startedAt
    if (result.survived && windowMs < minWindowMs) await new Promise((resolve) => setTimeout(resolve, minWindowMs - windowMs))
    result.probesSent = await honest.request<number>('probe-stop')
    if (!result.survived) return result
    result.latencies = await v.request<number[]>('probe-latencies', { count: result.probesSent, deadlineMs: 30_000 })
    result.stall = await v.request<StallReading>('gauge-stop')
    result.memory.held = await v.request<Memory>('memory', {}, 600_000)
    if (attacker.alive) await attacker.close()
    result.attackerLingered = await v.request('wait-room-gone', { peerId: attackerId, deadlineMs: 45_000 }).then(() => null, () => 'still in the victim\'s room 45 s after it left')
    result.memory.gone = await v.request<Memory>('memory', {}, 600_000)
    await snapshot('gone')
    result.reports = (await v.request<{ reports: Report[] }>('state')).reports.filter((r) => r.at >= startedAt)
  } catch (error) {
    if (victim !== null && !victim.alive) result.survived = false
    result.failure = reason(error)
  } finally {
    for (const child of children) if (child.alive) child.signal('SIGCONT')
    await Promise.all(children.map(async (child) => await child.close()))
  }
  return result
}
