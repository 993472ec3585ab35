/**
 * Real Trystero peers in one Node process. Trystero draws `selfId` once per module instance, so
 * every peer gets its own instance of the strategy and of `@trystero-p2p/core`: vitest inlines
 * them (vitest.config.ts) and `vi.resetModules()` makes the next import a fresh one.
 *
 * WebRTC is node-datachannel's polyfill, on loopback, with the settings that work on a machine
 * with no network interface (no ICE servers, bound to 127.0.0.1, no trickle ICE).
 */
import { vi } from 'vitest'
import mqtt from 'mqtt'
import { RTCPeerConnection as PolyfillPeerConnection } from 'node-datachannel/polyfill'
import { useNodeWebSocket } from '../../src/node/index.js'
import type { JoinRoom, TrysteroConfig } from '../../src/index.js'
import { startLocalMqttBroker } from '../../src/node/index.js'
import { closeBroadcastChannels, createBroadcastChannelStrategy } from './signaling/broadcast-channel-strategy.js'
import { startNostrRelay } from './signaling/nostr-relay.js'
import { startTorrentTracker } from './signaling/torrent-tracker.js'

/** The published strategies, and `custom`: one built with `createTopicStrategy` (BroadcastChannel). */
export type StrategyName = 'mqtt' | 'nostr' | 'torrent' | 'custom'

export interface Signaling {
  strategy: StrategyName
  url: string
  close: () => Promise<void>
}

export const startSignaling = async (strategy: StrategyName): Promise<Signaling> => {
  useNodeWebSocket()
  if (strategy === 'custom') {
    const namespace = `bc-${Math.random().toString(36).slice(2)}`
    return { strategy, url: namespace, close: async () => closeBroadcastChannels() }
  }
  const server = strategy === 'mqtt' ? await startLocalMqttBroker() : strategy === 'nostr' ? await startNostrRelay() : await startTorrentTracker()
  return { strategy, url: server.url, close: server.close }
}

/** Every RTCPeerConnection made here: Trystero does not close one that the far side closed. */
const connections = new Set<PolyfillPeerConnection>()
class RecordedPeerConnection extends PolyfillPeerConnection {
  constructor (config?: RTCConfiguration) {
    super(config)
    connections.add(this)
  }
}

/** MQTT clients made by Trystero's MQTT strategy, to end them at teardown (else they reconnect). */
const mqttClients = new Set<{ end: (force?: boolean) => unknown }>()
const connect = mqtt.connect.bind(mqtt)
;(mqtt as { connect: typeof mqtt.connect }).connect = ((...args: Parameters<typeof mqtt.connect>) => {
  const client = connect(...args)
  mqttClients.add(client)
  return client
}) as typeof mqtt.connect

export interface TrysteroPeer {
  selfId: string
  joinRoom: JoinRoom<TrysteroConfig>
  /** The config to join rooms with: the local signaling and loopback WebRTC. */
  config: TrysteroConfig & Record<string, unknown>
  /** The strategy module's `getRelaySockets`, for `provider.signaling`. */
  getRelaySockets: () => Record<string, WebSocket | undefined>
  /** Closes this peer's relay sockets. Rooms must have been left (providers destroyed). */
  closeRelays: () => void
}

const knownSelfIds = new Set<string>()

interface StrategyModule {
  joinRoom: JoinRoom<any>
  selfId: string
  getRelaySockets: () => Record<string, WebSocket | undefined>
  pauseRelayReconnection?: () => void
}

const importFreshStrategy = async (strategy: StrategyName, signalingUrl: string): Promise<StrategyModule> => {
  vi.resetModules()
  if (strategy === 'custom') {
    const core = await import('@trystero-p2p/core')
    return { joinRoom: createBroadcastChannelStrategy(core as never, signalingUrl), selfId: core.selfId, getRelaySockets: () => ({}) }
  }
  if (strategy === 'mqtt') return await import('@trystero-p2p/mqtt') as unknown as StrategyModule
  if (strategy === 'nostr') return await import('@trystero-p2p/nostr') as unknown as StrategyModule
  return await import('@trystero-p2p/torrent') as unknown as StrategyModule
}

/** Concurrent `resetModules()` + `import()` calls share one instance: create peers one by one. */
let creating: Promise<unknown> = Promise.resolve()

export const createTrysteroPeer = async (signaling: Signaling, appId = 'trystero-yjs-test'): Promise<TrysteroPeer> => {
  const fresh = creating.then(async () => await importFreshStrategy(signaling.strategy, signaling.url))
  creating = fresh.catch(() => undefined)
  const strategy = await fresh
  if (knownSelfIds.has(strategy.selfId)) throw new Error(`Trystero module instance reused (selfId ${strategy.selfId})`)
  knownSelfIds.add(strategy.selfId)
  return {
    selfId: strategy.selfId,
    joinRoom: strategy.joinRoom,
    config: {
      appId,
      relayConfig: { urls: [signaling.url] },
      rtcPolyfill: RecordedPeerConnection,
      rtcConfig: { iceServers: [], bindAddress: '127.0.0.1' } as RTCConfiguration,
      trickleIce: false,
      _test_only_sharedPeerIdleMs: 0
    },
    getRelaySockets: strategy.getRelaySockets,
    closeRelays: () => {
      strategy.pauseRelayReconnection?.()
      for (const socket of Object.values(strategy.getRelaySockets())) socket?.close()
    }
  }
}

/** After every room is left: close what Trystero leaves open, so the test process can exit. */
export const closeAllConnections = async (): Promise<void> => {
  for (const connection of connections) connection.close()
  connections.clear()
  for (const client of mqttClients) client.end(true)
  mqttClients.clear()
}
