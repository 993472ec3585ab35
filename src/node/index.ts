export { startLocalMqttBroker } from './local-mqtt-broker.js'
export type { LocalMqttBroker, LocalMqttBrokerOptions } from './local-mqtt-broker.js'
export { useNodeWebSocket } from './node-websocket.js'
export { releaseClosedConnections } from '../release-closed-connections.js'
