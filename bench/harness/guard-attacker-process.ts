/**
 * A hostile room member in its own process (its own Trystero instance, ended with the process):
 * joins a room, finds its data channel to the victim, and sends the attacks of guard-attacks.ts
 * raw. Driven over IPC (child-peer.ts); config in GUARD_ATTACKER_CONFIG ({brokerUrl, appId}).
 */
import { cleanup } from 'node-datachannel'
import { joinRoom, selfId } from '@trystero-p2p/mqtt'
import { trysteroRoomToken } from '../../src/guard/trystero-framing.js'
import { attackerChannels, attackerConnections, AttackerPeerConnection, attackFrames, sendAll, type AttackName } from './guard-attacks.js'

const config = JSON.parse(process.env['GUARD_ATTACKER_CONFIG'] ?? 'null') as { brokerUrl: string, appId: string } | null
if (config === null) throw new Error('guard-attacker: GUARD_ATTACKER_CONFIG is not set')

let room: ReturnType<typeof joinRoom> | null = null
let target: { channel: RTCDataChannel, roomToken: string } | null = null

const handle = async (command: { type: string, [key: string]: any }): Promise<unknown> => {
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
      target = { channel, roomToken: await trysteroRoomToken(config.appId, roomId) }
      return null
    }
    case 'attack': {
      if (target === null) throw new Error('attack before join')
      return await sendAll(target.channel, attackFrames(command['attack'] as AttackName, target.roomToken, command['chunks'] as number))
    }
    case 'exit':
      setImmediate(() => { void shutdown() })
      return null
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

process.on('message', (message: { id: number, command: { type: string } }) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, ok: true, result }),
    (error: unknown) => process.send!({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) })
  )
})
process.on('disconnect', () => { void shutdown() })
process.send!({ ready: true })
