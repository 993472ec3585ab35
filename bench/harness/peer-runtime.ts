/**
 * What every benchmark child process (peer-process.ts, heap-stages-process.ts) sets up and reads
 * the same way, so that both providers get identical treatment.
 */
import { existsSync } from 'node:fs'
import { useNodeWebSocket } from '../../src/node/node-websocket.js'

/**
 * Node 20 has no global WebSocket (y-webrtc's signaling client and Trystero need one). lib0's
 * BroadcastChannel (y-webrtc's same-browser channel) is useless across processes, and y-webrtc
 * reopens one on disconnect that nobody closes: the process would never exit.
 */
export const installPeerGlobals = (): void => {
  useNodeWebSocket()
  delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel
}

/**
 * Memory at rest: let pending timers and channel traffic settle, collect twice (weak refs and
 * finalizers free more on the second pass), and keep the lowest heap of three readings.
 */
export const memoryAtRest = async (): Promise<NodeJS.MemoryUsage> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('memoryAtRest: the process was started without --expose-gc')
  const readings: NodeJS.MemoryUsage[] = []
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    gc(); gc()
    readings.push(process.memoryUsage())
  }
  return readings.reduce((a, b) => (b.heapUsed < a.heapUsed ? b : a))
}

/**
 * Ours is measured as users get it, the built package: loading the TypeScript source through
 * tsx would add the transpiler's caches and source maps to the heap we report.
 */
const ourBuild = new URL('../../dist/index.js', import.meta.url)
/** `build`: another build's `dist/index.js` (bench/harness/build-at.ts). */
export const loadOurs = async (build?: string): Promise<[typeof import('../../src/index.js'), typeof import('@trystero-p2p/mqtt')]> => {
  const url = build === undefined ? ourBuild : new URL(`file://${build}`)
  if (!existsSync(url)) throw new Error(`${url.pathname} is missing; run \`npm run build\` first`)
  return await Promise.all([import(url.href) as Promise<typeof import('../../src/index.js')>, import('@trystero-p2p/mqtt')])
}
