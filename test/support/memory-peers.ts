/**
 * Providers on an in-memory network, for the fast protocol tests. Every provider made here is
 * destroyed by `reset()` (awareness keeps an interval that would hold the process open).
 */
import * as Y from 'yjs'
import { TrysteroProvider, type TrysteroProviderOptions } from '../../src/index.js'
import { MemoryNetwork, type MemoryNetworkOptions, type MemoryPeer } from '../../src/testing/index.js'
import { on, until } from './wait.js'

export interface MemoryTestPeer {
  peer: MemoryPeer
  doc: Y.Doc
  provider: TrysteroProvider
}

export const appId = 'trystero-yjs-test'

export interface MemoryMesh {
  network: MemoryNetwork
  /** A provider on a new peer (or on `peer`) in `roomId`. */
  add: (roomId?: string, providerOptions?: TrysteroProviderOptions, peer?: MemoryPeer) => MemoryTestPeer
  /** Destroy this provider with the others at `reset()`. */
  track: (provider: TrysteroProvider) => TrysteroProvider
  reset: (nextOptions?: MemoryNetworkOptions) => Promise<void>
}

/**
 * A network and the providers made on it. `reset()` destroys them and starts a new network
 * (with other faults, if given): call it in `afterEach`.
 */
export const createMemoryMesh = (options: MemoryNetworkOptions = {}): MemoryMesh => {
  const providers: TrysteroProvider[] = []
  const mesh: MemoryMesh = {
    network: new MemoryNetwork(options),
    add: (roomId = 'room', providerOptions = {}, peer = mesh.network.createPeer()) => {
      const doc = new Y.Doc()
      const provider = new TrysteroProvider(doc, roomId, { appId, joinRoom: peer.joinRoom, ...providerOptions })
      providers.push(provider)
      return { peer, doc, provider }
    },
    track: (provider) => {
      providers.push(provider)
      return provider
    },
    reset: async (nextOptions = {}) => {
      await Promise.all(providers.splice(0).map(async (provider) => await provider.destroy()))
      mesh.network = new MemoryNetwork(nextOptions)
    }
  }
  return mesh
}

/** Resolves once every provider is synced with all the others. */
export const fullMesh = async (peers: MemoryTestPeer[]): Promise<void> => {
  await until(`a synced full mesh of ${peers.length}`,
    () => peers.every(({ provider }) => provider.synced && provider.peers.length === peers.length - 1),
    peers.flatMap(({ provider }) => [on(provider, 'peers'), on(provider, 'synced')]))
}
