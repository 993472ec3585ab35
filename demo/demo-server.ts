/**
 * Starts what the demo needs on this machine: the embedded signaling server (MQTT over WebSocket,
 * 127.0.0.1) and the page, which is told the broker's address. No internet involved.
 */
import { fileURLToPath } from 'node:url'
import { build, createServer, preview, type InlineConfig } from 'vite'
import { startLocalMqttBroker, type LocalMqttBroker } from '../src/node/index.js'

export interface DemoOptions {
  /** `preview` (default): build the page, then serve it. `dev`: Vite's dev server, with hot reload. */
  mode?: 'preview' | 'dev'
  host?: string
  /** Page port; 0 for any. Default 5173. */
  port?: number
  /** Broker port; 0 for any. Default 8787. */
  brokerPort?: number
}

export interface RunningDemo {
  url: string
  broker: LocalMqttBroker
  close: () => Promise<void>
}

const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url))

export const startDemo = async (options: DemoOptions = {}): Promise<RunningDemo> => {
  const host = options.host ?? '127.0.0.1'
  const broker = await startLocalMqttBroker({ host, port: options.brokerPort ?? 8787 })
    .catch(async () => await startLocalMqttBroker({ host, port: 0 }))
  const config: InlineConfig = {
    configFile,
    define: { __LOCAL_BROKER_URL__: JSON.stringify(broker.url) },
    server: { host, port: options.port ?? 5173, strictPort: false },
    preview: { host, port: options.port ?? 5173, strictPort: false }
  }
  try {
    if (options.mode === 'dev') {
      const server = await createServer(config)
      await server.listen()
      return { url: server.resolvedUrls!.local[0]!, broker, close: async () => { await server.close(); await broker.close() } }
    }
    await build(config)
    const server = await preview(config)
    return {
      url: server.resolvedUrls!.local[0]!,
      broker,
      close: async () => {
        await new Promise<void>((resolve) => server.httpServer.close(() => resolve()))
        await broker.close()
      }
    }
  } catch (error) {
    await broker.close()
    throw error
  }
}
