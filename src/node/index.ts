export { startLocalMqttBroker } from './local-mqtt-broker.js'
export type { LocalMqttBroker, LocalMqttBrokerOptions } from './local-mqtt-broker.js'
export { useNodeWebSocket } from './node-websocket.js'
