/**
 * The embedded signaling server: an MQTT broker (aedes) served over WebSocket on 127.0.0.1, for
 * Trystero's MQTT strategy. It carries only the WebRTC handshake (offers, answers, candidates);
 * documents go peer to peer. The demo uses it, and so do the tests, so nothing needs the internet.
 *
 * Node only. Needs the optional peer dependencies `aedes` and `ws`.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { TrysteroYjsError } from '../errors.js'

/** Where `startLocalMqttBroker` listens. */
export interface LocalMqttBrokerOptions {
  /** Default `127.0.0.1`: reachable from this machine only. */
  host?: string
  /** Default `0`: any free port. */
  port?: number
}

/** A running embedded signaling server. */
export interface LocalMqttBroker {
  /** For `relayConfig: {urls: [broker.url]}` with `@trystero-p2p/mqtt`. */
  readonly url: string
  /** The port it listens on (the one asked for, or the free one it got). */
  readonly port: number
  /** Signaling bytes received from and sent to clients, for measurements. */
  readonly traffic: { received: number, sent: number }
  /** Closes every client connection, the broker and its server. */
  close: () => Promise<void>
}

/** aedes calls it without `done` itself, when a client subscribes again to a topic with other options. */
type Unsubscribe = (topic: string, deliver: never, done?: (error?: Error) => void) => void

/**
 * aedes handles the packets of one read concurrently and forgets a client's subscription only in
 * mqemitter's deferred `removeListener` callback, so a SUBSCRIBE that follows an UNSUBSCRIBE of the
 * same topic in one read is taken for a duplicate (acknowledged, nothing added) and then removed
 * (an ordering problem like moscajs/aedes#469, "subscribe/unsubscribe processed out of order").
 * Trystero leaving and rejoining a room sends exactly that for the peer's own
 * topic, where every offer and answer to it arrives: the peer could never connect again. Reporting
 * the unsubscribe done at once orders the two; mqemitter still removes that one listener later,
 * by its own reference, which leaves the new subscription in place. (This relies on aedes's default
 * mqemitter, whose errors are synchronous; a publish handled in the same turn may still reach the
 * client just after its UNSUBACK.)
 */
const finishUnsubscribeAtOnce = (broker: { unsubscribe: Unsubscribe }): void => {
  const unsubscribe = broker.unsubscribe.bind(broker)
  broker.unsubscribe = (topic, deliver, done) => {
    let reported = false
    const report = (error?: Error): void => {
      if (reported) return
      reported = true
      done?.(error)
    }
    unsubscribe(topic, deliver, report)
    report()
  }
}

/**
 * Starts the embedded signaling server (aedes over WebSocket) and resolves once it listens.
 * `npx trystero-yjs-broker` runs the same from the command line.
 */
export const startLocalMqttBroker = async (options: LocalMqttBrokerOptions = {}): Promise<LocalMqttBroker> => {
  const host = options.host ?? '127.0.0.1'
  const [{ Aedes }, { WebSocketServer, createWebSocketStream }] = await Promise.all([
    import('aedes').catch((cause: unknown) => { throw new TrysteroYjsError('startLocalMqttBroker needs the "aedes" package', { cause }) }),
    import('ws').catch((cause: unknown) => { throw new TrysteroYjsError('startLocalMqttBroker needs the "ws" package', { cause }) })
  ])
  const broker = await Aedes.createBroker()
  // Its types say `callback` is required; aedes itself omits it (see Unsubscribe).
  finishUnsubscribeAtOnce(broker as unknown as { unsubscribe: Unsubscribe })
  const http: Server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n')
  })
  const traffic = { received: 0, sent: 0 }
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (socket, request) => {
    socket.on('message', (data: Buffer) => { traffic.received += data.byteLength })
    const send = socket.send.bind(socket)
    socket.send = ((data: Buffer, ...rest: unknown[]) => {
      traffic.sent += data.byteLength
      return (send as (...args: unknown[]) => void)(data, ...rest)
    }) as typeof socket.send
    socket.on('error', () => socket.terminate())
    const stream = createWebSocketStream(socket)
    stream.on('error', () => stream.destroy())
    broker.handle(stream as never, request as never)
  })
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', (cause) => reject(new TrysteroYjsError(`cannot listen on ${host}:${options.port ?? 0}`, { cause })))
      http.listen(options.port ?? 0, host, resolve)
    })
  } catch (error) {
    wss.close()
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    throw error
  }
  const { port } = http.address() as AddressInfo
  return {
    url: `ws://${host}:${port}`,
    port,
    traffic,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      wss.close()
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
    }
  }
}
