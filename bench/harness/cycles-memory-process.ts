/**
 * The cycles scenario on the in-memory network: two providers in this one process, one of them
 * disconnecting and reconnecting, the heap read (after forced GCs) every `every` cycles. No
 * Trystero, no WebRTC, no MQTT: what grows here grows in trystero-yjs (or Yjs, y-protocols).
 * Prints the readings as JSON.
 *
 * Args: cycles, every, and optionally a directory and the cycles after which to write heap
 * snapshots there (`50,250`), for heap-diff.ts.
 */
import { writeHeapSnapshot } from 'node:v8'
import * as Y from 'yjs'
import { memoryAtRest } from './peer-runtime.js'

const [cycles, every] = process.argv.slice(2, 4).map(Number) as [number, number]
const [snapshotDirectory, snapshotList] = process.argv.slice(4)
const snapshotAt = new Set((snapshotList ?? '').split(',').filter(Boolean).map(Number))

// Our build, as in the WebRTC peers (see peer-runtime.ts: no transpiler in the heap).
const { TrysteroProvider } = await import(new URL('../../dist/index.js', import.meta.url).href) as typeof import('../../src/index.js')
const { MemoryNetwork } = await import(new URL('../../dist/testing.js', import.meta.url).href) as typeof import('../../src/testing/index.js')

type Provider = InstanceType<typeof TrysteroProvider>

const network = new MemoryNetwork({ seed: 1 })
const open = (name: string): Provider => {
  const doc = new Y.Doc()
  doc.getText('text').insert(0, name)
  const provider = new TrysteroProvider(doc, 'cycles', { appId: 'trystero-yjs-bench', joinRoom: network.createPeer(name).joinRoom })
  provider.on('error', (error) => console.error(error.message))
  return provider
}
const cycling = open('cycling')
const staying = open('staying')

/** Resolves once `test` holds, checked now and on every peers/synced event of both providers. */
const until = async (test: () => boolean): Promise<void> => {
  if (test()) return
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (!test()) return
      for (const p of [cycling, staying]) { p.off('peers', check); p.off('synced', check) }
      resolve()
    }
    for (const p of [cycling, staying]) { p.on('peers', check); p.on('synced', check) }
  })
}
const together = (): boolean => cycling.synced && staying.synced && cycling.peers.length === 1 && staying.peers.length === 1

const readings: Array<{ cycle: number, cyclingMB: number, stayingMB: number }> = []
const read = async (cycle: number): Promise<void> => {
  const heapMB = (await memoryAtRest()).heapUsed / 1024 / 1024
  // One process holds both peers: the heap is theirs together, reported under the cycling one.
  readings.push({ cycle, cyclingMB: heapMB, stayingMB: heapMB })
}

await until(together)
await read(0)
for (let cycle = 1; cycle <= cycles; cycle++) {
  await cycling.disconnect()
  await until(() => staying.peers.length === 0)
  await cycling.connect()
  await until(together)
  if (cycle % every === 0) await read(cycle)
  if (snapshotAt.has(cycle)) {
    await memoryAtRest()
    writeHeapSnapshot(`${snapshotDirectory}/memory-${cycle}.heapsnapshot`)
  }
}
process.stdout.write(JSON.stringify(readings))
process.exit(0)
