/** Injected by demo/demo-server.ts: the embedded MQTT broker's WebSocket URL. */
declare const __LOCAL_BROKER_URL__: string
