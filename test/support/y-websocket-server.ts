/**
 * A real y-websocket server, `@y/websocket-server`'s own command, in its own process on
 * 127.0.0.1: what the keeper's `--upstream` bridge is tested against.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export interface YWebsocketServer {
  url: string
  close: () => Promise<void>
}

const serverScript = (): string => {
  const require = createRequire(import.meta.url)
  // The package exports no entry for its command: resolve its package.json, then the bin.
  const packageJson = require.resolve('@y/websocket-server/package.json')
  return join(dirname(packageJson), 'src', 'server.js')
}

/** A port that was free a moment ago: the server takes its port from the environment only. */
const freePort = async (): Promise<number> => await new Promise((resolve, reject) => {
  const probe = createServer()
  probe.once('error', reject)
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => resolve(port))
  })
})

export const startYWebsocketServer = async (): Promise<YWebsocketServer> => {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, [serverScript()], {
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`y-websocket server not listening after 20 s: ${output}`)), 20_000)
    const take = (chunk: Buffer): void => {
      output += chunk.toString()
      if (output.includes('running at')) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout!.on('data', take)
    child.stderr!.on('data', take)
    child.once('close', (code) => { clearTimeout(timer); reject(new Error(`y-websocket server exited (${code}): ${output}`)) })
  })
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}
