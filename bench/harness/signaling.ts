/** Each provider's own signaling on 127.0.0.1: our embedded MQTT broker; y-webrtc's server. */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startLocalMqttBroker } from '../../src/node/index.js'
import type { ProviderKind } from './protocol.js'

export interface BenchSignaling {
  url: string
  /** Signaling bytes both ways, as the server saw them. */
  traffic: () => Promise<{ received: number, sent: number }>
  close: () => Promise<void>
}

const yWebrtcServer = fileURLToPath(new URL('./y-webrtc-signaling-process.ts', import.meta.url))

/** `host`: where to listen (default 127.0.0.1); the URL names it (replace it to reach it from elsewhere). */
export const startSignaling = async (provider: ProviderKind, host = '127.0.0.1'): Promise<BenchSignaling> => {
  if (provider !== 'y-webrtc') {
    const broker = await startLocalMqttBroker({ host })
    return { url: broker.url, traffic: async () => ({ ...broker.traffic }), close: broker.close }
  }
  const child = fork(yWebrtcServer, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_SIGNALING_HOST: host }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port))
    child.once('exit', (code) => reject(new Error(`y-webrtc signaling exited (${code})`)))
  })
  return {
    url: `ws://${host}:${port}`,
    traffic: async () => await new Promise((resolve, reject) => {
      if (!child.connected) { reject(new Error('y-webrtc signaling server is gone')); return }
      const onMessage = (message: { traffic: { received: number, sent: number } }): void => { clearTimeout(timer); resolve(message.traffic) }
      // A late reply must not answer the next request.
      const timer = setTimeout(() => {
        child.off('message', onMessage)
        reject(new Error('y-webrtc signaling server did not report its traffic within 5 s'))
      }, 5000)
      child.once('message', onMessage)
      child.send({ type: 'traffic' })
    }),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      if (child.connected) child.disconnect()
      await exited
      clearTimeout(timer)
    }
  }
}
