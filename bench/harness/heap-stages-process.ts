/**
 * Where a peer's heap goes: one fresh process loads, step by step, the document, the WebRTC
 * polyfill, the provider's code, and joins a room alone, reading the heap (after forced GCs) at
 * each step. `trystero-room` joins a bare Trystero room with no provider, to separate Trystero's
 * share from ours. Prints the stages as JSON.
 */
import { readFileSync } from 'node:fs'
import * as Y from 'yjs'
import { installPeerGlobals, loadOurs, memoryAtRest } from './peer-runtime.js'

const [signalingUrl, documentFile, subject] = process.argv.slice(2) as [string, string, 'trystero-yjs' | 'trystero-room' | 'y-webrtc']

installPeerGlobals()

const stages: Array<{ stage: string, heapMB: number }> = []
const read = async (stage: string): Promise<void> => {
  stages.push({ stage, heapMB: (await memoryAtRest()).heapUsed / 1024 / 1024 })
}

await read('Node, Yjs and the harness')
const doc = new Y.Doc()
Y.applyUpdate(doc, readFileSync(documentFile))
await read('+ the document')
const rtc = await import('node-datachannel/polyfill')
await read('+ node-datachannel polyfill')
const rtcOptions = { rtcPolyfill: rtc.RTCPeerConnection, rtcConfig: { iceServers: [] }, trickleIce: false }
if (subject === 'y-webrtc') {
  const { WebrtcProvider } = await import('y-webrtc' as string) as { WebrtcProvider: any }
  await read('+ provider code')
  const provider = new WebrtcProvider('heap', doc, { signaling: [signalingUrl], peerOpts: { wrtc: rtc, config: { iceServers: [] } } })
  provider.awareness.setLocalState(null)
  await read('+ room joined, alone')
} else {
  const [{ TrysteroProvider }, mqtt] = await loadOurs()
  await read('+ provider code')
  const config = { appId: 'trystero-yjs-bench', relayConfig: { urls: [signalingUrl] }, ...rtcOptions } as never
  if (subject === 'trystero-room') {
    mqtt.joinRoom(config, 'heap')
  } else {
    const provider = new TrysteroProvider(doc, 'heap', { ...(config as object), joinRoom: mqtt.joinRoom })
    provider.awareness.setLocalState(null)
  }
  await read('+ room joined, alone')
}
process.stdout.write(JSON.stringify(stages))
process.exit(0)
