/**
 * The `trystero-yjs-keeper` command line, parsed and checked before anything starts: a bad flag
 * is one line and exit code 2, never a stack trace or a keeper half started.
 */
import { isIP } from 'node:net'
import { parseArgs } from 'node:util'
import { strategyPackages, type StrategyName } from './optional-packages.js'

export interface KeeperCliConfig {
  dir: string
  appId: string
  strategy: StrategyName
  /** Signaling servers; empty: the strategy's public defaults. */
  relays: string[]
  rooms: string[]
  password: string | undefined
  /** Local address WebRTC binds to; with it, no ICE server unless `iceServers` names some. */
  bind: string | undefined
  iceServers: RTCIceServer[]
  upstream: string | undefined
  /** `Infinity`: never. */
  unloadAfterMs: number
  log: 'text' | 'json'
}

export type ParsedKeeperArgs =
  | { kind: 'run', config: KeeperCliConfig }
  | { kind: 'help' }
  | { kind: 'error', message: string }

export const keeperUsage = `usage: trystero-yjs-keeper --dir DIR --app-id ID --room NAME [--room NAME ...] [options]

Keeps rooms' Yjs documents on disk and serves them to whoever joins, as a passive Trystero peer:
it stays silent in a room until a user joins, and never connects to another keeper.

  --dir DIR              where room stores go (one SQLite file per room); created if missing
  --app-id ID            the app's Trystero appId (the same as the browsers')
  --room NAME            a room to keep; repeat for more
  --strategy NAME        signaling: ${Object.keys(strategyPackages).join(', ')} (default nostr); needs its
                         package (${Object.values(strategyPackages).join(', ')})
  --relay URL            signaling server (MQTT broker, Nostr relay, tracker); repeat for more;
                         default: the strategy's public servers
  --password SECRET      the room password (Trystero's), as the browsers use it
  --bind ADDRESS         bind WebRTC to this local address; then no STUN/TURN server is used
                         unless --ice-server is given (--bind 127.0.0.1: nothing leaves loopback)
  --ice-server URL       STUN or TURN server (turn:USER:PASSWORD@HOST:PORT); repeat for more;
                         default: Trystero's public STUN servers (none with --bind)
  --upstream URL         bridge every kept room to a y-websocket server (ws://host/path): room R
                         is its document R; needs y-websocket and ws
  --unload-after SECONDS unload a room's document after nobody had it open this long; it is
                         loaded again when someone joins (default 600; 0: never)
  --log text|json        one line per event, as text (default) or JSON
  --help                 this text

Prints "keeping N rooms" once ready. SIGINT/SIGTERM: stores are compacted and closed, rooms left,
exit 0. Needs better-sqlite3 (12.x) and node-datachannel.`

const isWebSocketUrl = (value: string): boolean => {
  try {
    return ['ws:', 'wss:'].includes(new URL(value).protocol)
  } catch {
    return false
  }
}

/** `turn:USER:PASSWORD@HOST:PORT` → `{urls, username, credential}`; other URLs as they are. */
export const parseIceServer = (value: string): RTCIceServer | null => {
  const credentials = /^(turns?):([^:@/]+):([^@/]+)@(.+)$/.exec(value)
  if (credentials !== null) return { urls: `${credentials[1]}:${credentials[4]}`, username: credentials[2], credential: credentials[3] }
  return /^(stuns?|turns?):[^\s]+$/.test(value) ? { urls: value } : null
}

export const parseKeeperArgs = (argv: string[]): ParsedKeeperArgs => {
  let values: Record<string, string | string[] | boolean | undefined>
  let positionals: string[]
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        dir: { type: 'string' },
        'app-id': { type: 'string' },
        room: { type: 'string', multiple: true },
        strategy: { type: 'string' },
        relay: { type: 'string', multiple: true },
        password: { type: 'string' },
        bind: { type: 'string' },
        'ice-server': { type: 'string', multiple: true },
        upstream: { type: 'string' },
        'unload-after': { type: 'string' },
        log: { type: 'string' },
        help: { type: 'boolean' }
      }
    }))
  } catch (error) {
    // Node's messages run to several sentences; the first says what is wrong.
    const message = error instanceof Error ? error.message.split(/\.\s/)[0]!.replace(/\.$/, '') : String(error)
    return { kind: 'error', message }
  }
  if (values['help'] === true) return { kind: 'help' }
  const error = (message: string): ParsedKeeperArgs => ({ kind: 'error', message })
  if (positionals.length > 0) return error(`unexpected argument ${JSON.stringify(positionals[0])}`)

  const dir = values['dir'] as string | undefined
  const appId = values['app-id'] as string | undefined
  const rooms = (values['room'] as string[] | undefined) ?? []
  if (dir === undefined || dir === '') return error('--dir is required')
  if (appId === undefined || appId === '') return error('--app-id is required')
  if (rooms.length === 0) return error('at least one --room is required')
  const emptyRoom = rooms.find((room) => room === '')
  if (emptyRoom !== undefined) return error('--room must not be empty')

  const strategy = (values['strategy'] as string | undefined) ?? 'nostr'
  if (!(strategy in strategyPackages)) return error(`--strategy must be one of ${Object.keys(strategyPackages).join(', ')}, got ${JSON.stringify(strategy)}`)

  const relays = (values['relay'] as string[] | undefined) ?? []
  const badRelay = relays.find((url) => !isWebSocketUrl(url))
  if (badRelay !== undefined) return error(`--relay must be a ws:// or wss:// URL, got ${JSON.stringify(badRelay)}`)

  const bind = values['bind'] as string | undefined
  if (bind !== undefined && isIP(bind) === 0) return error(`--bind must be an IP address, got ${JSON.stringify(bind)}`)

  const iceServers: RTCIceServer[] = []
  for (const url of (values['ice-server'] as string[] | undefined) ?? []) {
    const server = parseIceServer(url)
    if (server === null) return error(`--ice-server must be a stun: or turn: URL, got ${JSON.stringify(url)}`)
    iceServers.push(server)
  }

  const upstream = values['upstream'] as string | undefined
  if (upstream !== undefined && !isWebSocketUrl(upstream)) return error(`--upstream must be a ws:// or wss:// URL, got ${JSON.stringify(upstream)}`)

  const unloadAfter = (values['unload-after'] as string | undefined) ?? '600'
  const seconds = Number(unloadAfter)
  if (unloadAfter.trim() === '' || !Number.isFinite(seconds) || seconds < 0) return error(`--unload-after must be a number of seconds (0: never), got ${JSON.stringify(unloadAfter)}`)

  const log = (values['log'] as string | undefined) ?? 'text'
  if (log !== 'text' && log !== 'json') return error(`--log must be text or json, got ${JSON.stringify(log)}`)

  return {
    kind: 'run',
    config: {
      dir,
      appId,
      strategy: strategy as StrategyName,
      relays,
      rooms: [...new Set(rooms)],
      password: values['password'] as string | undefined,
      bind,
      iceServers,
      upstream,
      unloadAfterMs: seconds === 0 ? Infinity : seconds * 1000,
      log
    }
  }
}

/** Trystero's `rtcConfig` for the flags: `undefined` keeps Trystero's defaults (public STUN). */
export const rtcConfigFor = (config: Pick<KeeperCliConfig, 'bind' | 'iceServers'>): (RTCConfiguration & { bindAddress?: string }) | undefined => {
  if (config.bind !== undefined) return { iceServers: config.iceServers, bindAddress: config.bind }
  return config.iceServers.length > 0 ? { iceServers: config.iceServers } : undefined
}
