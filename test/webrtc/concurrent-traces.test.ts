/**
 * Two people typing at once, replayed through two real peers over real WebRTC: the recorded
 * traces `friendsforever` and `clownschool` (Joseph Gentle's editing-traces, CC BY 4.0). Each
 * agent applies its edits when its own document holds what it had seen when it typed them — which
 * must come over the network from the other peer — so the recorded concurrency is kept, and both
 * peers must end with the trace's `endContent`. Skipped, saying where it looked, without the traces.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider } from '../../src/index.js'
import { ConcurrentReplay, loadConcurrentTrace } from '../support/concurrent-trace.js'
import { converged, on, until } from '../support/wait.js'
import { useWebRtcFixture } from '../support/webrtc-fixture.js'

const deadline = 120_000

describe('concurrent editing traces through real peers', () => {
  const fixture = useWebRtcFixture('mqtt')

  for (const name of ['friendsforever', 'clownschool']) {
    const { trace, path } = loadConcurrentTrace(name)
    it.skipIf(trace === null)(`${name}: both peers end with the recorded text${trace === null ? ` (skipped: no trace at ${path})` : ''}`, async () => {
      const roomId = fixture.roomId(`trace-${name}`)
      const live: Array<{ doc: Y.Doc, provider: TrysteroProvider }> = []
      for (let agent = 0; agent < trace!.numAgents; agent++) {
        const peer = await fixture.peer()
        const doc = new Y.Doc()
        const provider = fixture.provider(new TrysteroProvider(doc, roomId, { ...peer.config, joinRoom: peer.joinRoom }))
        live.push({ doc, provider })
      }
      await until('the peers synced with each other', () => live.every(({ provider }) => provider.synced && provider.peers.length === live.length - 1),
        live.flatMap(({ provider }) => [on(provider, 'synced'), on(provider, 'peers')]), deadline)
      const replay = new ConcurrentReplay(trace!)
      let waits = 0
      for (let index = 0; index < trace!.txns.length; index++) {
        const { agent, update, needs } = replay.step(index)
        const { doc } = live[agent]!
        const holds = (): boolean => [...needs].every(([client, clock]) => Y.getState(doc.store, client) >= clock)
        if (!holds()) {
          waits++
          await until(`agent ${agent} to receive what it had seen before transaction ${index}`, holds, [on(doc, 'update')], deadline)
        }
        Y.applyUpdate(doc, update, 'replay')
      }
      replay.destroy()
      await converged(live.map(({ doc }) => doc), (d) => d.getText('t').length, deadline)
      for (const { doc } of live) expect(doc.getText('t').toString()).toBe(trace!.endContent)
      // The replay waited on the network wherever the trace says one author had seen the other.
      expect(waits).toBeGreaterThan(100)
    }, deadline * 2)
  }
})
