/** Peers of one contender in one room, on that contender's own signaling server. */
import { PeerHandle } from './peer-handle.js'
import type { Contender } from './contenders.js'
import type { PeerConfig } from './protocol.js'
import { startSignaling, type BenchSignaling } from './signaling.js'

export interface SyncedAt { at: number, createdAt: number, channelOpenAt: number | null }

let roomCounter = 0

export class BenchRoom {
  readonly peers: PeerHandle[] = []
  private constructor (readonly contender: Contender, readonly signaling: BenchSignaling, readonly room: string) {}

  static async open (contender: Contender): Promise<BenchRoom> {
    return new BenchRoom(contender, await startSignaling(contender.provider), `bench-${process.pid}-${++roomCounter}`)
  }

  /**
   * Spawns `count` peer processes (in parallel); they join only when told. Those that started are
   * kept for `close()` even when another failed to.
   */
  async spawn (count: number, documentFile?: string, options: Pick<PeerConfig, 'keepConnections' | 'anatomy' | 'timeline'> = {}): Promise<PeerHandle[]> {
    const results = await Promise.allSettled(Array.from({ length: count }, async () => await PeerHandle.spawn({
      provider: this.contender.provider,
      rtc: this.contender.rtc,
      signalingUrl: this.signaling.url,
      room: this.room,
      ...(documentFile === undefined ? {} : { documentFile }),
      ...(this.contender.compactSync === undefined ? {} : { compactSync: this.contender.compactSync }),
      ...(this.contender.stateSnapshot === undefined ? {} : { stateSnapshot: this.contender.stateSnapshot }),
      ...(this.contender.build === undefined ? {} : { build: this.contender.build }),
      ...options
    })))
    const spawned = results.flatMap((r) => r.status === 'fulfilled' ? [r.value] : [])
    this.peers.push(...spawned)
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failure !== undefined) throw failure.reason
    return spawned
  }

  /** Ends every peer process and the signaling server. */
  async close (): Promise<void> {
    await Promise.all(this.peers.map(async (peer) => await peer.close()))
    await this.signaling.close()
  }
}

/**
 * Peers join together (`staggerMs` 0), or one after the other: people do not join in the same
 * millisecond, and simultaneous starts are the mesh scenario's own subject (y-webrtc's offer glare
 * leaves its meshes partial); other scenarios start peers 200 ms apart, for both contenders.
 */
export const join = async (peers: PeerHandle[], staggerMs = 0): Promise<void> => {
  if (staggerMs === 0) {
    await Promise.all(peers.map(async (peer) => await peer.request({ type: 'join' })))
    return
  }
  for (const [i, peer] of peers.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, staggerMs))
    await peer.request({ type: 'join' })
  }
}

export const staggerMs = 200

export const waitSynced = async (peers: PeerHandle[], withPeers: number, timeoutMs: number): Promise<SyncedAt[]> =>
  await Promise.all(peers.map(async (peer) => await peer.request<SyncedAt>({ type: 'wait-synced', peers: withPeers, timeoutMs })))

/** Runs `f` with a fresh room, always closed after. */
export const withRoom = async <T>(contender: Contender, f: (room: BenchRoom) => Promise<T>): Promise<T> => {
  const room = await BenchRoom.open(contender)
  try {
    return await f(room)
  } finally {
    await room.close()
  }
}
