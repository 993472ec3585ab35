/**
 * With no `joinRoom`, the provider loads the `trystero` package (its Nostr strategy) on first
 * connect. Run against the local Nostr relay; each provider gets a fresh Trystero module instance.
 */
import { afterAll, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider } from '../../src/index.js'
import { closeAllConnections, createTrysteroPeer, startSignaling } from '../support/trystero-peer.js'
import { converged, on, until } from '../support/wait.js'

const signaling = await startSignaling('nostr')
afterAll(async () => {
  await closeAllConnections()
  await signaling.close()
})

interface NostrModule { selfId: string, pauseRelayReconnection: () => void, getRelaySockets: () => Record<string, WebSocket> }

it('uses the trystero package (Nostr) when no joinRoom is given', async () => {
  // Only for the loopback settings (relay URL, polyfill); its joinRoom is not used.
  const { config } = await createTrysteroPeer(signaling)
  const connectFresh = async (): Promise<[TrysteroProvider, NostrModule]> => {
    vi.resetModules()
    const provider = new TrysteroProvider(new Y.Doc(), 'default-strategy', config)
    await provider.whenSynced()
    // Same module instance the provider loaded: nothing was reset since.
    return [provider, await import('trystero') as unknown as NostrModule]
  }
  const [a, nostrA] = await connectFresh()
  const [b, nostrB] = await connectFresh()
  expect(nostrA.selfId).not.toBe(nostrB.selfId)
  a.doc.getText('t').insert(0, 'over the default strategy')
  await converged([a.doc, b.doc], (d) => d.getText('t').toString())
  expect(a.peers).toEqual([nostrB.selfId])
  // provider.signaling reads the sockets of the trystero package it loaded (looked at once a
  // second: the sync can be over before the first look that finds the package loaded).
  await until('A reports its relay', () => a.signaling.reachable > 0, [on(a, 'signaling')])
  expect(a.signaling).toMatchObject({ total: 1, reachable: 1, relays: [{ url: signaling.url, state: 'open' }] })
  await Promise.all([a.destroy(), b.destroy()])
  for (const nostr of [nostrA, nostrB]) {
    nostr.pauseRelayReconnection()
    for (const socket of Object.values(nostr.getRelaySockets())) socket.close()
  }
})
