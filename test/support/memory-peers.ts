/**
 * Providers on an in-memory network, for the fast protocol tests. Every provider made here is
 * destroyed by `destroyAll()` (awareness keeps an interval that would hold the process open).
 */
import * as Y from 'yjs'
import { TrysteroProvider, type TrysteroProviderOptions } from '../../src/index.js'
import { MemoryNetwork, type MemoryNetworkOptions, type MemoryPeer } from '../../src/testing/index.js'

export interface MemoryTestPeer {
  peer: MemoryPeer
  doc: Y.Doc
  provider: TrysteroProvider
}

export const appId = 'trystero-yjs-test'

export const createMemoryMesh = (options: MemoryNetworkOptions = {}) => {
  const network = new MemoryNetwork(options)
  const providers: TrysteroProvider[] = []
  const add = (roomId = 'room', providerOptions: TrysteroProviderOptions = {}, peer = network.createPeer()): MemoryTestPeer => {
    const doc = new Y.Doc()
    const provider = new TrysteroProvider(doc, roomId, { appId, joinRoom: peer.joinRoom, ...providerOptions })
    providers.push(provider)
    return { peer, doc, provider }
  }
  const track = (provider: TrysteroProvider): TrysteroProvider => {
    providers.push(provider)
    return provider
  }
  const destroyAll = async (): Promise<void> => {
    await Promise.all(providers.splice(0).map(async (provider) => await provider.destroy()))
  }
  return { network, add, track, destroyAll }
}
