/** The README's Node quick start, as two separate processes syncing through the local broker. */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { startLocalMqttBroker } from '../../src/node/index.js'

const run = promisify(execFile)
const script = fileURLToPath(new URL('./fixtures/readme-node-peer.mjs', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)))

describe.skipIf(!built)('README Node quick start', () => {
  const brokerStarted = startLocalMqttBroker()
  afterAll(async () => { await (await brokerStarted).close() })

  it('syncs two Node processes through the embedded MQTT broker', async () => {
    const broker = await brokerStarted
    const peers = ['ada', 'bob'].map(async (name) => await run(process.execPath, [script, broker.url, name], { timeout: 45_000 }))
    for (const { stdout } of await Promise.all(peers)) expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual(['ada', 'bob'])
  })
})
