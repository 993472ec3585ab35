/**
 * Physical limits to hold each result against: how long a bare data channel takes to move the
 * same bytes (node-datachannel, loopback, 16 KiB chunks with backpressure, as Trystero sends),
 * and how long Yjs takes to apply the same update in-process.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as Y from 'yjs'
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { median } from '../support/report.js'

const run = promisify(execFile)
const coldApplyScript = fileURLToPath(new URL('./cold-apply-process.ts', import.meta.url))

/**
 * Median ms of the first `Y.applyUpdate` of `file` in a fresh process: what a new peer, whose
 * process has never run Yjs's code before, must spend at least.
 */
export const coldApplyMs = async (file: string, repeats = 3): Promise<number> => {
  const times: number[] = []
  for (let i = 0; i < repeats; i++) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', coldApplyScript, file])
    times.push(Number(stdout))
  }
  return median(times)
}

const chunkBytes = 16 * 1024
const lowWater = 64 * 1024

/** Milliseconds to send `bytes` one way over a fresh data channel, from channel open. */
export const rawTransferMs = async (bytes: number): Promise<number> => {
  const config = { iceServers: [], bindAddress: '127.0.0.1' } as RTCConfiguration
  const sender = new RTCPeerConnection(config)
  const receiver = new RTCPeerConnection(config)
  const transfer = async (): Promise<number> => {
    // A candidate arriving after close rejects; that is not a failure of the measurement.
    sender.onicecandidate = ({ candidate }) => { if (candidate) receiver.addIceCandidate(candidate).catch(() => {}) }
    receiver.onicecandidate = ({ candidate }) => { if (candidate) sender.addIceCandidate(candidate).catch(() => {}) }
    const channel = sender.createDataChannel('floor')
    channel.binaryType = 'arraybuffer'
    const received = new Promise<number>((resolve) => {
      receiver.ondatachannel = ({ channel: incoming }) => {
        let got = 0
        incoming.binaryType = 'arraybuffer'
        incoming.onmessage = ({ data }) => {
          got += (data as ArrayBuffer).byteLength
          if (got >= bytes) resolve(performance.now())
        }
      }
    })
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription!)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription!)
    await new Promise<void>((resolve) => { channel.onopen = () => resolve() })
    const start = performance.now()
    channel.bufferedAmountLowThreshold = lowWater
    const payload = new Uint8Array(chunkBytes)
    for (let sent = 0; sent < bytes; sent += chunkBytes) {
      if (channel.bufferedAmount > lowWater) await new Promise<void>((resolve) => { channel.onbufferedamountlow = () => resolve() })
      channel.send(payload.subarray(0, Math.min(chunkBytes, bytes - sent)))
    }
    return (await received) - start
  }
  const limitMs = 60_000
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`raw transfer of ${bytes} bytes did not finish within ${limitMs} ms`)), limitMs) })
  try {
    return await Promise.race([transfer(), timeout])
  } finally {
    clearTimeout(timer)
    sender.close()
    receiver.close()
  }
}

/** Median ms of `Y.applyUpdate` into a fresh document in a warm process, over `repeats` runs (after one warm-up). */
export const applyUpdateMs = (update: Uint8Array, repeats = 3): number => {
  Y.applyUpdate(new Y.Doc(), update)
  const times: number[] = []
  for (let i = 0; i < repeats; i++) {
    const start = performance.now()
    Y.applyUpdate(new Y.Doc(), update)
    times.push(performance.now() - start)
  }
  return median(times)
}
