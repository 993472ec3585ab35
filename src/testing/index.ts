export { MemoryNetwork } from './memory-network.js'
export type { LatencyFunction, MemoryDelivery, MemoryNetworkFaults, MemoryNetworkOptions, MemoryNetworkStats, MemoryPeer } from './memory-network.js'
