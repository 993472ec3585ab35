export { MemoryNetwork } from './memory-network.js'
export type { MemoryDelivery, MemoryNetworkFaults, MemoryNetworkOptions, MemoryNetworkStats, MemoryPeer } from './memory-network.js'
