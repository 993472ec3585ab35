/**
 * What a hostile room member costs a peer, with and without the connection guard (src/guard):
 * each attack of issue 10 against a fresh victim process (TrysteroProvider, node-datachannel,
 * MQTT on the local broker), its memory before and after at rest, and whether it survived. The
 * attacker is a process of its own with raw access to its data channel to the victim.
 */
import { fileURLToPath } from 'node:url'
import { startLocalMqttBroker } from '../../src/node/index.js'
import type { ConnectionGuardOptions } from '../../src/guard/index.js'
import { ChildPeer } from '../harness/child-peer.js'
import type { AttackName } from '../harness/guard-attacks.js'
import type { VictimConfig } from '../harness/guard-victim-process.js'
import { median, type Table } from '../support/report.js'

const victimScript = fileURLToPath(new URL('../harness/guard-victim-process.ts', import.meta.url))
const attackerScript = fileURLToPath(new URL('../harness/guard-attacker-process.ts', import.meta.url))
const MiB = 1024 * 1024
const appId = 'trystero-yjs-bench-guard'

export const guardFloodAttacks: AttackName[] = ['broken JSON payload', 'broken JSON metadata', 'unclaimed names', 'message that never ends', 'unknown room token']

/** The limits the guarded victim runs with (what a peer may make it keep: 8 + 16 + 1 MiB). */
export const benchGuardOptions: ConnectionGuardOptions = { maxMessageBytes: 8 * MiB, maxInFlightBytes: 16 * MiB, maxHeldBytes: 8 * MiB, maxControlBytes: MiB }

export interface GuardFloodOptions {
  /** 16 KiB frames per flood (4,096 = 64 MiB). */
  chunks: number
  runs: number
}

export interface GuardFloodRow {
  attack: AttackName
  guarded: boolean
  sentMiB: number
  /** Runs in which the victim process was still alive after the attack. */
  survived: number
  runs: number
  /** Growth at rest (after GC) over the same process before the attack, medians over surviving runs. */
  rssMiB: number | null
  arrayBuffersMiB: number | null
  heapMiB: number | null
  violations: Record<string, number>
  failureReasons: string[]
}

interface Memory { rss: number, heapUsed: number, arrayBuffers: number }

export const runGuardFlood = async (options: GuardFloodOptions): Promise<GuardFloodRow[]> => {
  const broker = await startLocalMqttBroker()
  const rows: GuardFloodRow[] = []
  try {
    for (const attack of guardFloodAttacks) {
      for (const guarded of [false, true]) {
        const runs: RunResult[] = []
        for (let run = 0; run < options.runs; run++) runs.push(await runOnce(broker.url, attack, guarded, options.chunks))
        const alive = runs.filter((r) => r.growth !== null)
        const mib = (pick: (m: Memory) => number): number | null => alive.length === 0 ? null : median(alive.map((r) => pick(r.growth!) / MiB))
        const violations: Record<string, number> = {}
        for (const r of runs) for (const [kind, count] of Object.entries(r.violations)) violations[kind] = (violations[kind] ?? 0) + count
        rows.push({
          attack, guarded, sentMiB: (runs[0]?.sent ?? 0) / MiB, survived: alive.length, runs: runs.length,
          rssMiB: mib((m) => m.rss), arrayBuffersMiB: mib((m) => m.arrayBuffers), heapMiB: mib((m) => m.heapUsed),
          violations, failureReasons: runs.flatMap((r) => r.failure === null ? [] : [r.failure])
        })
      }
    }
  } finally {
    await broker.close()
  }
  return rows
}

interface RunResult { sent: number, growth: Memory | null, violations: Record<string, number>, failure: string | null }

const runOnce = async (brokerUrl: string, attack: AttackName, guarded: boolean, chunks: number): Promise<RunResult> => {
  const roomId = `guard-flood-${process.pid}-${Math.random().toString(36).slice(2)}`
  const config: VictimConfig = { brokerUrl, appId, roomId, guarded, guardOptions: benchGuardOptions }
  const [victim, attacker] = await Promise.all([
    ChildPeer.spawn(victimScript, { GUARD_VICTIM_CONFIG: JSON.stringify(config) }),
    ChildPeer.spawn(attackerScript, { GUARD_ATTACKER_CONFIG: JSON.stringify({ brokerUrl, appId }) })
  ])
  let sent = 0
  try {
    const [{ selfId: victimId }, { selfId: attackerId }] = await Promise.all([
      victim.request<{ selfId: string }>('state'), attacker.request<{ selfId: string }>('state')
    ])
    await attacker.request('join', { roomId, victimId })
    await victim.request('wait-room-peer', { peerId: attackerId })
    const before = await victim.request<Memory>('memory')
    // Trystero's own traffic arrived on the same channel before: count from here.
    const receivedBefore = await victim.request<number>('received', { peerId: attackerId })
    sent = await attacker.request<number>('attack', { attack, chunks }, 120_000)
    const outcome = await Promise.race([
      victim.exited.then((exit) => ({ crashed: `exit code ${exit.code ?? exit.signal}: ${/Error: .*/.exec(exit.stderr)?.[0] ?? ''}` })),
      victim.request('wait-received', { peerId: attackerId, bytes: receivedBefore + sent }, 120_000).then(() => ({ crashed: null }))
    ])
    if (outcome.crashed !== null) return { sent, growth: null, violations: {}, failure: outcome.crashed }
    const after = await victim.request<Memory>('memory')
    const { violations } = await victim.request<{ violations: Record<string, number> }>('state')
    return {
      sent,
      growth: { rss: after.rss - before.rss, heapUsed: after.heapUsed - before.heapUsed, arrayBuffers: after.arrayBuffers - before.arrayBuffers },
      violations,
      failure: null
    }
  } catch (error) {
    return { sent, growth: null, violations: {}, failure: error instanceof Error ? error.message : String(error) }
  } finally {
    await Promise.all([attacker.close(), victim.close()])
  }
}

export const guardFloodTable = (rows: GuardFloodRow[], options: GuardFloodOptions): Table => ({
  title: `A hostile room member against one peer: memory kept after the attack, without and with the connection guard (${options.runs} run${options.runs === 1 ? '' : 's'} each, medians)`,
  columns: ['attack', 'guard', 'sent (MiB)', 'victim alive', 'RSS growth (MiB)', 'ArrayBuffers growth (MiB)', 'heap growth (MiB)', 'violations reported'],
  rows: rows.map((r) => [
    r.attack, r.guarded ? 'yes' : 'no', r.sentMiB, `${r.survived}/${r.runs}`, r.rssMiB, r.arrayBuffersMiB, r.heapMiB,
    Object.entries(r.violations).map(([kind, count]) => `${kind} ×${count}`).join(', ') || '—'
  ]),
  notes: [
    `Victim: TrysteroProvider on node-datachannel and the MQTT strategy in its own process; growth is measured at rest (after two GCs) against the same process before the attack. Guard limits: maxMessageBytes ${benchGuardOptions.maxMessageBytes! / MiB} MiB, maxInFlightBytes ${benchGuardOptions.maxInFlightBytes! / MiB} MiB, maxHeldBytes ${benchGuardOptions.maxHeldBytes! / MiB} MiB, maxControlBytes ${benchGuardOptions.maxControlBytes! / MiB} MiB; violations only counted here (the provider will close the connection on the first).`,
    'Floods are 16 KiB frames as Trystero sends them: whole messages to 512 action names nobody made; one message to the victim\'s room channel whose last chunk never comes; frames for a room token nobody joined.',
    ...rows.filter((r) => r.failureReasons.length > 0).map((r) => `${r.attack}, guard ${r.guarded ? 'on' : 'off'}: ${[...new Set(r.failureReasons)].join('; ')}`)
  ]
})
