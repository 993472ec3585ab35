/**
 * The embedded broker at the packet level: a raw MQTT client over WebSocket, so the test decides
 * which packets share one frame — as Trystero's MQTT client does when a room is left and joined
 * again in one tick.
 */
import { afterEach, describe, expect, it } from 'vitest'
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

describe('startLocalMqttBroker', () => {
  let broker: LocalMqttBroker | undefined
  const clients: RawClient[] = []
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await broker?.close()
  })

  it('keeps a subscription renewed in the same frame as its unsubscribe (a Trystero room left and joined again at once)', async () => {
    broker = await startLocalMqttBroker()
    const peer = await connect(broker.url, 'peer')
    const other = await connect(broker.url, 'other')
    clients.push(peer, other)
    const subscribed = peer.next('suback')
    peer.send(subscribe(1, 'self'))
    await subscribed
    const acks = Promise.all([peer.next('unsuback'), peer.next('suback')])
    peer.send(unsubscribe(2, 'self'), subscribe(3, 'self'))
    await acks
    // In the order sent: the unsubscribe is done before the renewal is taken.
    expect(peer.received.map((p) => p.cmd)).toEqual(['connack', 'suback', 'unsuback', 'suback'])
    const delivered = peer.next('publish')
    other.send(publish('self', 'offer'))
    await delivered
    expect(payloads(peer)).toEqual(['self:offer'])
  })

  it('takes a subscription renewed with another QoS (aedes then unsubscribes without a callback)', async () => {
    broker = await startLocalMqttBroker()
    const peer = await connect(broker.url, 'peer')
    const other = await connect(broker.url, 'other')
    clients.push(peer, other)
    const first = peer.next('suback')
    peer.send(subscribe(1, 'topic'))
    await first
    const renewed = peer.next('suback')
    peer.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'topic', qos: 1 }] })
    expect(await renewed).toMatchObject({ granted: [1] })
    const delivered = peer.next('publish')
    other.send(publish('topic', 'still here'))
    await delivered
    expect(payloads(peer)).toEqual(['topic:still here'])
  })

  it('still ends a subscription that is not renewed', async () => {
    broker = await startLocalMqttBroker()
    const peer = await connect(broker.url, 'peer')
    const other = await connect(broker.url, 'other')
    clients.push(peer, other)
    const subscribed = Promise.all([peer.next('suback'), peer.next('suback')])
    peer.send(subscribe(1, 'left'), subscribe(2, 'kept'))
    await subscribed
    const unsubscribed = peer.next('unsuback')
    peer.send(unsubscribe(3, 'left'))
    await unsubscribed
    // One publisher, one subscriber: delivered in order, so once 'kept' is here 'left' would be too.
    const delivered = peer.next('publish')
    other.send(publish('left', 'stale'), publish('kept', 'fresh'))
    await delivered
    expect(payloads(peer)).toEqual(['kept:fresh'])
  })
})
