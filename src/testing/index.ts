export { MemoryNetwork } from './memory-network.js'
export type { MemoryNetworkFaults, MemoryNetworkOptions, MemoryNetworkStats, MemoryPeer } from './memory-network.js'
