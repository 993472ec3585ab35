/**
 * What every real-WebRTC test file sets up and tears down the same way: one signaling server for
 * the file, and after each test every provider destroyed, every room left, every relay socket and
 * every connection closed, in that order (goodbyes go out before the connections drop, and no
 * connection of one test leaks into the next). Call it in a `describe` (or at a file's top level).
 */
import { afterAll, afterEach, beforeAll } from 'vitest'
import type { TrysteroRoom } from '../../src/index.js'
import { closeAllConnections, createTrysteroPeer, startSignaling, type Signaling, type StrategyName, type TrysteroPeer } from './trystero-peer.js'

export interface WebRtcFixture {
  /** The file's signaling server (started before its first test). */
  readonly signaling: Signaling
  /** A fresh Trystero peer (its own `selfId`), its relays closed after the test. */
  peer: (appId?: string) => Promise<TrysteroPeer>
  /** Destroyed after the test (a provider of ours, or another, such as y-websocket's). */
  provider: <P extends { destroy: () => unknown }>(provider: P) => P
  /** Left after the test (after the providers). */
  room: (room: TrysteroRoom) => TrysteroRoom
  /** A room id no other test of the run uses. */
  roomId: (prefix: string) => string
}

export interface WebRtcFixtureCleanup {
  /** Runs first after each test (child processes: before the peers they talk to go). */
  first?: () => Promise<void> | void
  /** Runs after the rooms and relays, before every remaining connection is closed. */
  last?: () => Promise<void> | void
}

export const useWebRtcFixture = (strategy: StrategyName, cleanup: WebRtcFixtureCleanup = {}): WebRtcFixture => {
  let signaling: Signaling | null = null
  const peers: TrysteroPeer[] = []
  const providers: Array<{ destroy: () => unknown }> = []
  const rooms: TrysteroRoom[] = []
  let counter = 0

  beforeAll(async () => { signaling = await startSignaling(strategy) })
  afterEach(async () => {
    await cleanup.first?.()
    await Promise.all(providers.splice(0).map(async (provider) => await provider.destroy()))
    // A raw room whose connection the victim closed (an attacker's) makes Trystero 0.25's leave()
    // throw as it sends its goodbye on the closed channel: the room is gone either way.
    await Promise.all(rooms.splice(0).map(async (room) => {
      room.onPeerJoin = null
      await room.leave().catch(() => {})
    }))
    for (const peer of peers.splice(0)) peer.closeRelays()
    await cleanup.last?.()
    await closeAllConnections()
  })
  afterAll(async () => { await signaling?.close() })

  return {
    get signaling () {
      if (signaling === null) throw new Error(`the ${strategy} signaling server is not started yet: use the fixture inside a test`)
      return signaling
    },
    peer: async (appId) => {
      const peer = await createTrysteroPeer(signaling!, appId)
      peers.push(peer)
      return peer
    },
    provider: (provider) => {
      providers.push(provider)
      return provider
    },
    room: (room) => {
      rooms.push(room)
      return room
    },
    roomId: (prefix) => `${prefix}-${++counter}-${Math.random().toString(36).slice(2)}`
  }
}
