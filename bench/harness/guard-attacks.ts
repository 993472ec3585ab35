/**
 * A hostile room member's tools: raw access to its data channel to a victim (a recording
 * RTCPeerConnection class to give Trystero as `rtcPolyfill`), and the frames of the attacks
 * measured against Trystero 0.25 (issue 10). Shared by test/webrtc/guard.test.ts and the
 * guard-flood benchmark.
 */
import { RTCPeerConnection as PolyfillPeerConnection } from 'node-datachannel/polyfill'
import { chunkPayloadBytes, encodeActionChunk, encodeRoomFrame, type ActionChunkFields } from '../../src/guard/trystero-framing.js'

const MiB = 1024 * 1024

/** The data channel of each connection made with {@link AttackerPeerConnection}. */
export const attackerChannels = new WeakMap<object, RTCDataChannel>()
/** Every connection made with it: Trystero leaves some open (close them at the end). */
export const attackerConnections = new Set<PolyfillPeerConnection>()

/** Closes every attacker connection made so far (after a test or a run). */
export const closeAttackerConnections = (): void => {
  for (const connection of attackerConnections) connection.close()
  attackerConnections.clear()
}

export class AttackerPeerConnection extends PolyfillPeerConnection {
  constructor (config?: RTCConfiguration) {
    super({ ...config, bindAddress: '127.0.0.1' } as RTCConfiguration)
    attackerConnections.add(this)
    this.addEventListener('datachannel', (event) => attackerChannels.set(this, (event as RTCDataChannelEvent).channel))
  }

  override createDataChannel (label: string, init?: RTCDataChannelInit): any {
    const channel = super.createDataChannel(label, init)
    attackerChannels.set(this, channel as unknown as RTCDataChannel)
    return channel
  }
}

/**
 * Sends every frame, waiting whenever more than 4 MiB are queued; stops early if the channel
 * closes (the victim disconnected us). Returns the bytes sent.
 */
export const sendAll = async (channel: RTCDataChannel, frames: Iterable<Uint8Array<ArrayBuffer>>): Promise<number> => {
  let bytes = 0
  for (const frame of frames) {
    if (channel.bufferedAmount > 4 * MiB) {
      await new Promise((resolve) => {
        channel.addEventListener('bufferedamountlow', resolve, { once: true })
        channel.addEventListener('close', resolve, { once: true })
      })
    }
    if (channel.readyState !== 'open') break
    channel.send(frame)
    bytes += frame.byteLength
  }
  return bytes
}

export type AttackName = 'broken JSON payload' | 'broken JSON metadata' | 'unclaimed names' | 'message that never ends' | 'unknown room token'

/** A JSON-tagged chunk whose payload is not JSON: Trystero's `fromJson` throws on it. */
export const brokenJsonFrame = (roomToken: string, fields: Omit<ActionChunkFields, 'payload' | 'json'> = { actionName: '@_ping' }): Uint8Array<ArrayBuffer> =>
  encodeRoomFrame(roomToken, encodeActionChunk({ ...fields, json: true, payload: new TextEncoder().encode('{"not json') }))

/** `count` full-size chunks (16 KiB frames, as Trystero sends them), made by `fields(i)`. */
export function * fullChunks (roomToken: string, count: number, fields: (i: number) => ActionChunkFields): Generator<Uint8Array<ArrayBuffer>> {
  const payload = new Uint8Array(chunkPayloadBytes).fill(0x5a)
  for (let i = 0; i < count; i++) yield encodeRoomFrame(roomToken, encodeActionChunk({ binary: true, payload, ...fields(i) }))
}

/** A token no room of the victim has: Trystero keeps such frames until a room with it is bound. */
export const unknownRoomToken = 'f'.repeat(64)

/**
 * The frames of one attack on the room of `roomToken`; floods are `chunks` frames of 16 KiB.
 * `claimedName` is an action the victim has (its room channel): the message that never ends goes
 * there, since Trystero reassembles any name, but the guard would hold an unclaimed one anyway.
 */
export const attackFrames = (attack: AttackName, roomToken: string, chunks: number, claimedName = 'ty:room'): Iterable<Uint8Array<ArrayBuffer>> => {
  switch (attack) {
    case 'broken JSON payload': return [brokenJsonFrame(roomToken)]
    case 'broken JSON metadata': return [brokenJsonFrame(roomToken, { actionName: '@_ping', nonce: 1, meta: true, last: false })]
    case 'unclaimed names': return fullChunks(roomToken, chunks, (i) => ({ actionName: `evil:${i % 512}`, nonce: i & 0xffff }))
    case 'message that never ends': return fullChunks(roomToken, chunks, () => ({ actionName: claimedName, nonce: 7, last: false }))
    case 'unknown room token': return fullChunks(unknownRoomToken, chunks, (i) => ({ actionName: '@_ping', nonce: i & 0xffff }))
  }
}
