/**
 * `provider.signaling` over Trystero's Nostr strategy in Node (its sockets are `ws` WebSockets),
 * against the local relay and an address where nothing listens (127.0.0.1:1, refused at once).
 */
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider, type SignalingStatus, type TrysteroYjsError } from '../../src/index.js'
import { nextEvent, on, until } from '../support/wait.js'
import { useWebRtcFixture } from '../support/webrtc-fixture.js'

const nowhere = 'ws://127.0.0.1:1'
const fixture = useWebRtcFixture('nostr')

const join = async (urls: string[]): Promise<TrysteroProvider> => {
  const peer = await fixture.peer()
  return fixture.provider(new TrysteroProvider(new Y.Doc(), fixture.roomId('signaling'), {
    ...peer.config, relayConfig: { urls }, joinRoom: peer.joinRoom, getRelaySockets: peer.getRelaySockets
  }))
}

it('counts the relays it reaches and names the one it cannot reach, without an error while one works', async () => {
  const provider = await join([fixture.signaling.url, nowhere])
  const errors: TrysteroYjsError[] = []
  provider.on('error', (error) => errors.push(error))
  const events: SignalingStatus[] = []
  provider.on('signaling', (status) => events.push(status))
  await until('one relay open and one failed', () => provider.signaling.relays.map((r) => r.state).join() === 'open,failed', [on(provider, 'signaling')])
  expect(provider.signaling).toEqual({
    total: 2,
    reachable: 1,
    relays: [{ url: fixture.signaling.url, state: 'open' }, { url: nowhere, state: 'failed' }],
    lastError: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:1: could not connect/)
  })
  expect(events.at(-1)).toEqual(provider.signaling)
  expect(errors).toEqual([])
})

it('reports an error when no relay is reachable, and counts none once disconnected', async () => {
  const provider = await join([nowhere])
  const [error] = await nextEvent<[TrysteroYjsError]>(provider, 'error')
  expect(error.message).toMatch(/no signaling relay reachable \(0 of 1\).*ws:\/\/127\.0\.0\.1:1: could not connect/)
  expect(provider.signaling).toMatchObject({ total: 1, reachable: 0, relays: [{ url: nowhere, state: 'failed' }] })
  await provider.disconnect()
  expect(provider.signaling).toMatchObject({ total: 0, reachable: 0, relays: [] })
})
