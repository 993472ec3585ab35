#!/usr/bin/env node
/**
 * `npx trystero-yjs-broker [--port 8787] [--host 127.0.0.1]`: the embedded MQTT-over-WebSocket
 * signaling server, for local use with `@trystero-p2p/mqtt` and `relayConfig: {urls: [url]}`.
 */
import { parseArgs } from 'node:util'
import { startLocalMqttBroker } from './local-mqtt-broker.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    help: { type: 'boolean', default: false }
  }
})

if (values.help) {
  console.log('usage: trystero-yjs-broker [--port 8787] [--host 127.0.0.1]\nMQTT over WebSocket for Trystero signaling; documents never pass through it.')
  process.exit(0)
}

const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`trystero-yjs-broker: --port must be a port number, got ${JSON.stringify(values.port)}`)
  process.exit(2)
}

const broker = await startLocalMqttBroker({ host: values.host, port })
console.log(`trystero-yjs signaling (MQTT over WebSocket): ${broker.url}`)
const stop = (): void => { void broker.close().then(() => process.exit(0)) }
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
