/**
 * The embedded broker at the packet level: a raw MQTT client over WebSocket, so the test decides
 * which packets share one frame — as Trystero's MQTT client does when a room is left and joined
 * again in one tick.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import mqttPacket from 'mqtt-packet'
import { WebSocket } from 'ws'
import { startLocalMqttBroker, type LocalMqttBroker } from '../../src/node/index.js'

interface RawClient {
  /** Sends these packets in one WebSocket message. */
  send: (...packets: mqttPacket.Packet[]) => void
  /** Resolves with the next packet of this kind (`suback`, `publish`, …); rejects after 3 s without one. */
  next: (cmd: string) => Promise<mqttPacket.Packet>
  received: mqttPacket.Packet[]
  close: () => void
}

const connect = async (url: string, clientId: string): Promise<RawClient> => {
  const socket = new WebSocket(url, ['mqtt'])
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  const received: mqttPacket.Packet[] = []
  const waiters: Array<{ cmd: string, resolve: (packet: mqttPacket.Packet) => void }> = []
  parser.on('packet', (packet: mqttPacket.Packet) => {
    received.push(packet)
    const index = waiters.findIndex((w) => w.cmd === packet.cmd)
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(packet)
  })
  socket.on('message', (data: Buffer) => parser.parse(data))
  const client: RawClient = {
    send: (...packets) => socket.send(Buffer.concat(packets.map((p) => mqttPacket.generate(p)))),
    next: async (cmd) => await new Promise((resolve, reject) => {
      const waiter = { cmd, resolve: (packet: mqttPacket.Packet) => { clearTimeout(timer); resolve(packet) } }
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(waiter), 1)
        reject(new Error(`${clientId}: no ${cmd} within 3 s (received: ${received.map((p) => p.cmd).join(', ')})`))
      }, 3000)
      waiters.push(waiter)
    }),
    received,
    close: () => socket.close()
  }
  const connack = client.next('connack')
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 0 })
  await connack
  return client
}

const subscribe = (messageId: number, topic: string): mqttPacket.Packet => ({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos: 0 }] })
const unsubscribe = (messageId: number, topic: string): mqttPacket.Packet => ({ cmd: 'unsubscribe', messageId, unsubscriptions: [topic] })
const publish = (topic: string, text: string): mqttPacket.Packet => ({ cmd: 'publish', topic, payload: Buffer.from(text), qos: 0, dup: false, retain: false })
const payloads = (client: RawClient): string[] =>
  client.received.flatMap((p) => p.cmd === 'publish' ? [`${p.topic}:${p.payload.toString()}`] : [])

/** Sends `packets` in one frame and resolves with the replies of these kinds. */
const exchange = async (client: RawClient, replies: string[], ...packets: mqttPacket.Packet[]): Promise<mqttPacket.Packet[]> => {
  const waiting = Promise.all(replies.map(async (cmd) => await client.next(cmd)))
  client.send(...packets)
  return await waiting
}

describe('startLocalMqttBroker', () => {
  let broker: LocalMqttBroker
  /** The subscriber under test, and a publisher. */
  let peer: RawClient
  let other: RawClient
  beforeEach(async () => {
    broker = await startLocalMqttBroker()
    peer = await connect(broker.url, 'peer')
    other = await connect(broker.url, 'other')
  })
  afterEach(async () => {
    peer.close()
    other.close()
    await broker.close()
  })
  /** `other` publishes `packets`; resolves once `peer` has received a publish. */
  const deliver = async (...packets: mqttPacket.Packet[]): Promise<void> => {
    const delivered = peer.next('publish')
    other.send(...packets)
    await delivered
  }

  it('keeps a subscription renewed in the same frame as its unsubscribe (a Trystero room left and joined again at once)', async () => {
    await exchange(peer, ['suback'], subscribe(1, 'self'))
    await exchange(peer, ['unsuback', 'suback'], unsubscribe(2, 'self'), subscribe(3, 'self'))
    // In the order sent: the unsubscribe is done before the renewal is taken.
    expect(peer.received.map((p) => p.cmd)).toEqual(['connack', 'suback', 'unsuback', 'suback'])
    await deliver(publish('self', 'offer'))
    expect(payloads(peer)).toEqual(['self:offer'])
  })

  it('takes a subscription renewed with another QoS (aedes then unsubscribes without a callback)', async () => {
    await exchange(peer, ['suback'], subscribe(1, 'topic'))
    const [renewed] = await exchange(peer, ['suback'], { cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'topic', qos: 1 }] })
    expect(renewed).toMatchObject({ granted: [1] })
    await deliver(publish('topic', 'still here'))
    expect(payloads(peer)).toEqual(['topic:still here'])
  })

  it('still ends a subscription that is not renewed', async () => {
    await exchange(peer, ['suback', 'suback'], subscribe(1, 'left'), subscribe(2, 'kept'))
    await exchange(peer, ['unsuback'], unsubscribe(3, 'left'))
    // One publisher, one subscriber: delivered in order, so once 'kept' is here 'left' would be too.
    await deliver(publish('left', 'stale'), publish('kept', 'fresh'))
    expect(payloads(peer)).toEqual(['kept:fresh'])
  })
})
