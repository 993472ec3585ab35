/**
 * Property: whatever the schedule — random edits on 5 replicas, partitions into random groups,
 * heals, peers paused and resumed, providers disconnected and reconnected, over a jittery network
 * — every replica converges once the network is whole again. fast-check draws the schedules
 * (seeded, so a failure prints the seed and the shrunk schedule to replay).
 */
import { afterAll, describe, it } from 'vitest'
import fc from 'fast-check'
import type * as Y from 'yjs'
import { createMemoryMesh, fullMesh, type MemoryTestPeer } from '../support/memory-peers.js'
import { converged, on, until } from '../support/wait.js'

const replicas = 5

type Step =
  | { kind: 'edit', replica: number, at: number, text: string, remove: number }
  | { kind: 'map', replica: number, key: string, value: number }
  | { kind: 'partition', groups: number[] }
  | { kind: 'heal' }
  | { kind: 'pause', replica: number }
  | { kind: 'silence', replica: number }
  | { kind: 'resume', replica: number }
  | { kind: 'reconnect', replica: number }
  | { kind: 'settle' }

const replica = fc.integer({ min: 0, max: replicas - 1 })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('edit' as const), replica, at: fc.nat(), text: fc.string({ minLength: 0, maxLength: 4 }), remove: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('map' as const), replica, key: fc.constantFrom('a', 'b', 'c'), value: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), groups: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: replicas, maxLength: replicas }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'heal' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('silence' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), replica }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) }
)

const read = (doc: Y.Doc): unknown => ({ text: doc.getText('t').toString(), map: Object.entries(doc.getMap('m').toJSON()).sort(([a], [b]) => a < b ? -1 : 1) })

describe('partitions and heals (property)', () => {
  const mesh = createMemoryMesh()
  afterAll(async () => await mesh.reset())

  it('every replica converges once the network is whole again, whatever the schedule', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.array(step, { minLength: 5, maxLength: 40 }), async (seed, steps) => {
      await mesh.reset({ seed, latency: [1, 30] })
      const peers: MemoryTestPeer[] = []
      for (let i = 0; i < replicas; i++) peers.push(mesh.add('room', { limits: { heartbeatInterval: 40, heartbeatTimeout: 150, syncTimeout: 300 } }))
      await fullMesh(peers)
      const paused = new Set<string>()
      for (const s of steps) {
        switch (s.kind) {
          case 'edit': {
            const text = peers[s.replica]!.doc.getText('t')
            const at = s.at % (text.length + 1)
            const remove = Math.min(s.remove, text.length - at)
            if (remove > 0) text.delete(at, remove)
            if (s.text.length > 0) text.insert(at, s.text)
            break
          }
          case 'map':
            peers[s.replica]!.doc.getMap('m').set(s.key, s.value)
            break
          case 'partition':
            mesh.network.partition(...[0, 1, 2].map((g) => peers.filter((_, i) => s.groups[i] === g).map(({ peer }) => peer.selfId)))
            break
          case 'heal':
            mesh.network.heal()
            break
          case 'pause':
            mesh.network.pause(peers[s.replica]!.peer.selfId)
            paused.add(peers[s.replica]!.peer.selfId)
            break
          case 'silence': {
            // Paused until the others take it for gone (the heartbeat), so that it must be revived.
            const silent = peers[s.replica]!
            mesh.network.pause(silent.peer.selfId)
            paused.add(silent.peer.selfId)
            const others = peers.filter((p) => !paused.has(p.peer.selfId))
            await until('the others take it for gone', () => others.every(({ provider }) => !provider.peers.includes(silent.peer.selfId)),
              others.map(({ provider }) => on(provider, 'peers')), 5000)
            break
          }
          case 'resume':
            mesh.network.resume(peers[s.replica]!.peer.selfId)
            paused.delete(peers[s.replica]!.peer.selfId)
            break
          case 'reconnect':
            await peers[s.replica]!.provider.disconnect()
            await peers[s.replica]!.provider.connect()
            break
          case 'settle':
            await mesh.network.settle()
        }
      }
      mesh.network.heal()
      for (const id of paused) mesh.network.resume(id)
      await fullMesh(peers).catch((error: Error) => {
        throw new Error(`${error.message}; ${peers.map(({ peer, provider }) => `${peer.selfId}: ${provider.status}${provider.synced ? ' synced' : ''} [${provider.peers.join(' ')}] room [${Object.keys(provider.room?.getPeers() ?? {}).join(' ')}]`).join('; ')}`)
      })
      await converged(peers.map(({ doc }) => doc), read)
    }), { numRuns: 50, seed: 20261201 })
  }, 300_000)
})
