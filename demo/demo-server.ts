/**
 * Starts what the demo needs on this machine: the embedded signaling server (MQTT over WebSocket,
 * 127.0.0.1), the page, which is told the broker's address, and optionally a keeper beside the
 * broker, so that a room's document outlives every tab. No internet involved.
 */
import { fileURLToPath } from 'node:url'
import { build, createServer, preview, type InlineConfig } from 'vite'
import { Keeper, startLocalMqttBroker, type LocalMqttBroker } from '../src/node/index.js'

export interface DemoOptions {
  /** `preview` (default): build the page, then serve it. `dev`: Vite's dev server, with hot reload. */
  mode?: 'preview' | 'dev'
  host?: string
  /** Page port; 0 for any. Default 5173. */
  port?: number
  /** Broker port; 0 for any. Default 8787. */
  brokerPort?: number
  /**
   * Keep these rooms' documents in `dir` (a keeper on the local broker). A room given with its
   * write key is a private one (the keeper must prove the key, like every peer). Default: no keeper.
   */
  keep?: { rooms: Array<string | { room: string, writeKey: string }>, dir: string }
}

export interface RunningDemo {
  url: string
  broker: LocalMqttBroker
  keeper: Keeper | null
  close: () => Promise<void>
}

/** The page's app id (demo/src/main.ts): rooms are namespaced by it. */
const demoAppId = 'trystero-yjs-demo'

const startKeeper = async (broker: LocalMqttBroker, host: string, keep: NonNullable<DemoOptions['keep']>): Promise<Keeper> => {
  const { joinRoom } = await import('@trystero-p2p/mqtt')
  const keeper = new Keeper({
    dir: keep.dir,
    appId: demoAppId,
    joinRoom,
    relayConfig: { urls: [broker.url] },
    // As the page's local choice: no STUN server; on loopback, nothing leaves this machine.
    rtcConfig: host === '127.0.0.1' ? { iceServers: [], bindAddress: host } as RTCConfiguration : { iceServers: [] }
  })
  try {
    for (const room of keep.rooms) {
      if (typeof room === 'string') await keeper.keep(room)
      else await keeper.keep(room.room, { writeKey: room.writeKey })
    }
  } catch (error) {
    await keeper.close()
    throw error
  }
  return keeper
}

const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url))

export const startDemo = async (options: DemoOptions = {}): Promise<RunningDemo> => {
  const host = options.host ?? '127.0.0.1'
  const broker = await startLocalMqttBroker({ host, port: options.brokerPort ?? 8787 })
    .catch(async () => await startLocalMqttBroker({ host, port: 0 }))
  let keeper: Keeper | null = null
  const stopServices = async (): Promise<void> => {
    await keeper?.close()
    await broker.close()
  }
  const config: InlineConfig = {
    configFile,
    define: { __LOCAL_BROKER_URL__: JSON.stringify(broker.url) },
    server: { host, port: options.port ?? 5173, strictPort: false },
    preview: { host, port: options.port ?? 5173, strictPort: false }
  }
  try {
    if (options.keep !== undefined) keeper = await startKeeper(broker, host, options.keep)
    if (options.mode === 'dev') {
      const server = await createServer(config)
      await server.listen()
      return { url: server.resolvedUrls!.local[0]!, broker, keeper, close: async () => { await server.close(); await stopServices() } }
    }
    await build(config)
    const server = await preview(config)
    return {
      url: server.resolvedUrls!.local[0]!,
      broker,
      keeper,
      close: async () => {
        await new Promise<void>((resolve) => server.httpServer.close(() => resolve()))
        await stopServices()
      }
    }
  } catch (error) {
    await stopServices()
    throw error
  }
}
