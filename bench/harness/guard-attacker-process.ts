/**
 * A hostile room member in its own process (its own Trystero instance, ended with the process):
 * joins a room, finds its data channel to the victim, and sends the attacks of guard-attacks.ts
 * raw, or those of protocol-attacks.ts through Trystero actions (announce the document, then
 * flood it). Driven over IPC (child-peer.ts); config in GUARD_ATTACKER_CONFIG ({brokerUrl, appId}).
 */
import { cleanup } from 'node-datachannel'
import { joinRoom, selfId } from '@trystero-p2p/mqtt'
import { trysteroRoomToken } from '../../src/guard/trystero-framing.js'
import { roomChannelName } from '../../src/protocol/room-messages.js'
import { decodeFrame } from '../../src/protocol/doc-messages.js'
import { attackerChannels, attackerConnections, AttackerPeerConnection, attackFrames, sendAll, type AttackName } from './guard-attacks.js'
import { announceDocument, docAction, emptyStep1, markerUpdate, missingHistoryUpdates } from './protocol-attacks.js'
import { serveParent, type ChildCommand } from './child-peer.js'

const config = JSON.parse(process.env['GUARD_ATTACKER_CONFIG'] ?? 'null') as { brokerUrl: string, appId: string } | null
if (config === null) throw new Error('guard-attacker: GUARD_ATTACKER_CONFIG is not set')

let room: ReturnType<typeof joinRoom> | null = null
let target: { channel: RTCDataChannel, roomToken: string, victimId: string } | null = null
/** The document's action, once announced; step 2 answers are counted, never kept. */
let doc: { send: (data: Uint8Array, options: { target: string }) => Promise<unknown> } | null = null
const answers = { count: 0, lastAt: 0 }

/** What `send-doc` sends, built as it is sent (20,000 updates are made one by one). */
const docFrames = (kind: string, count: number, marker: string): Iterable<Uint8Array> => {
  switch (kind) {
    case 'step1': return Array.from({ length: count }, emptyStep1)
    case 'missing-history': return missingHistoryUpdates(count)
    case 'marker': return [markerUpdate(marker)]
    default: throw new Error(`unknown doc attack ${kind}`)
  }
}

const handle = async (command: ChildCommand): Promise<unknown> => {
  switch (command.type) {
    case 'state':
      return { selfId }
    case 'join': {
      const roomId = command['roomId'] as string
      const victimId = command['victimId'] as string
      const joined = joinRoom({
        appId: config.appId, relayConfig: { urls: [config.brokerUrl] }, rtcPolyfill: AttackerPeerConnection,
        rtcConfig: { iceServers: [] }, trickleIce: false, _test_only_sharedPeerIdleMs: 0
      } as never, roomId)
      room = joined
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('victim not met within 45 s')), 45_000)
        joined.onPeerJoin = (peerId) => { if (peerId === victimId) { clearTimeout(timer); resolve() } }
      })
      const channel = attackerChannels.get(joined.getPeers()[victimId] as object)
      if (channel === undefined) throw new Error('no data channel to the victim')
      target = { channel, roomToken: await trysteroRoomToken(config.appId, roomId), victimId }
      return null
    }
    case 'announce': {
      if (room === null || target === null) throw new Error('announce before join')
      const action = room.makeAction(docAction)
      action.onMessage = (data: unknown) => {
        try {
          if (!decodeFrame(data as Uint8Array).messages.some((m) => m.type === 'sync-step2')) return
        } catch { return }
        answers.count++
        answers.lastAt = performance.timeOrigin + performance.now()
      }
      doc = action as never
      await room.makeAction(roomChannelName).send(announceDocument(), { target: target.victimId })
      return null
    }
    case 'send-doc': {
      if (doc === null || target === null) throw new Error('send-doc before announce')
      const sends: Array<Promise<unknown>> = []
      for (const frame of docFrames(command['kind'] as string, command['count'] as number, command['marker'] as string)) sends.push(doc.send(frame, { target: target.victimId }))
      const settled = await Promise.allSettled(sends)
      return { messages: sends.length, failed: settled.filter((s) => s.status === 'rejected').length }
    }
    case 'answers': {
      // Step 2 answers so far, once none came for quietMs since this call (or at the deadline).
      const quietMs = command['quietMs'] as number
      const asked = performance.timeOrigin + performance.now()
      const deadline = Date.now() + (command['deadlineMs'] as number)
      await new Promise<void>((resolve) => {
        const check = (): void => {
          const quietFor = performance.timeOrigin + performance.now() - Math.max(answers.lastAt, asked)
          if (quietFor >= quietMs || Date.now() >= deadline) { resolve(); return }
          setTimeout(check, Math.min(quietMs - quietFor, deadline - Date.now()) + 1)
        }
        check()
      })
      return { count: answers.count, lastAt: answers.lastAt }
    }
    case 'attack': {
      if (target === null) throw new Error('attack before join')
      return await sendAll(target.channel, attackFrames(command['attack'] as AttackName, target.roomToken, command['chunks'] as number))
    }
    default:
      throw new Error(`unknown command ${command.type}`)
  }
}

const shutdown = async (): Promise<void> => {
  if (room !== null) {
    room.onPeerJoin = null
    await room.leave().catch(() => {})
  }
  for (const connection of attackerConnections) connection.close()
  try { cleanup() } catch {}
  process.exit(0)
}

serveParent(handle, shutdown)
