#!/usr/bin/env node
/**
 * `npx trystero-yjs-keeper --dir ./data --app-id ID --room NAME …`: keeps rooms' documents on disk
 * and serves them to whoever joins (see `--help` and src/node/keeper/).
 */
import { Keeper } from './keeper/keeper.js'
import { keeperUsage, parseKeeperArgs, rtcConfigFor } from './keeper/keeper-args.js'
import { attachKeeperLog } from './keeper/keeper-log.js'
import { loadStrategy } from './keeper/optional-packages.js'
import { useNodeWebSocket } from './node-websocket.js'
import { TrysteroYjsError } from '../errors.js'

const name = 'trystero-yjs-keeper'
const parsed = parseKeeperArgs(process.argv.slice(2))
if (parsed.kind === 'help') {
  console.log(keeperUsage)
  process.exit(0)
}
if (parsed.kind === 'error') {
  console.error(`${name}: ${parsed.message} (see --help)`)
  process.exit(2)
}
const config = parsed.config

const fail = (error: unknown): never => {
  console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}

// Nostr and BitTorrent need a global WebSocket, which Node 20 lacks.
if (config.strategy !== 'mqtt') useNodeWebSocket()
const joinRoom = await loadStrategy(config.strategy).catch(fail)
const rtcConfig = rtcConfigFor(config)
const keeper = new Keeper({
  dir: config.dir,
  appId: config.appId,
  joinRoom,
  ...(config.password === undefined ? {} : { password: config.password }),
  ...(config.relays.length === 0 ? {} : { relayConfig: { urls: config.relays } }),
  ...(rtcConfig === undefined ? {} : { rtcConfig }),
  ...(config.upstream === undefined ? {} : { upstream: config.upstream }),
  unloadAfterMs: config.unloadAfterMs
})
const log = attachKeeperLog(keeper, config.log)

let stopping = false
const stop = (): void => {
  if (stopping) return
  stopping = true
  void keeper.close().then(() => {
    log.stopped()
    process.exit(0)
  }, fail)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

// One room at a time: each prints its line as it loads, and one unreadable store is reported
// and skipped without stopping the others.
let kept = 0
for (const room of config.rooms) {
  if (stopping) break
  try {
    await keeper.keep(room)
    kept++
  } catch (error) {
    // A missing package fails every room alike: say it once, and stop.
    if (error instanceof TrysteroYjsError && !('roomId' in error && error.roomId !== undefined)) fail(error)
    log.failed(error instanceof TrysteroYjsError ? error : new TrysteroYjsError('could not keep a room', { cause: error }))
  }
}
if (!stopping) {
  if (kept === 0) fail(new TrysteroYjsError(`none of the ${config.rooms.length} rooms could be kept`))
  log.ready(kept)
}
