/**
 * The keeper's packages that an app installs only if it runs a keeper: SQLite, Node WebRTC, the
 * y-websocket client, a Trystero strategy. Each is imported on first use, so `trystero-yjs/node`
 * costs nothing to apps that only run a broker; a missing or unbuilt package fails with an error
 * that names it and says how to install it.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { KeeperError } from './keeper-error.js'
import type { JoinRoom } from '../../room-types.js'

/** better-sqlite3's `Database` class. */
export type SqliteConstructor = typeof BetterSqlite3

const missing = (name: string, purpose: string, install: string, cause: unknown): KeeperError =>
  new KeeperError(`the keeper needs "${name}" ${purpose}: ${install}`, { cause })

const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let loading: Promise<T> | null = null
  return async () => {
    loading ??= load().catch((error: unknown) => {
      // A failed import can be retried after the app installed the package.
      loading = null
      throw error
    })
    return await loading
  }
}

/** better-sqlite3, checked by opening an in-memory database: its native binding loads only then. */
export const loadSqlite: () => Promise<SqliteConstructor> = once(async (): Promise<SqliteConstructor> => {
  let Database: SqliteConstructor
  try {
    Database = (await import('better-sqlite3')).default
    new Database(':memory:').close()
  } catch (cause) {
    // 13.x needs Node 22 and crashes on 20; 12.x builds or downloads its binary at install time.
    throw missing('better-sqlite3', 'to store documents', 'npm install better-sqlite3@12 (its install script must run: see allowScripts in the README)', cause)
  }
  return Database
})

/** node-datachannel's WebRTC polyfill: Node has no `RTCPeerConnection`. */
export const loadNodeRtc: () => Promise<typeof globalThis.RTCPeerConnection> = once(async (): Promise<typeof globalThis.RTCPeerConnection> => {
  try {
    const { RTCPeerConnection } = await import('node-datachannel/polyfill')
    return RTCPeerConnection as unknown as typeof globalThis.RTCPeerConnection
  } catch (cause) {
    throw missing('node-datachannel', 'for WebRTC in Node', 'npm install node-datachannel', cause)
  }
})

export interface YWebsocketModule {
  WebsocketProvider: typeof import('y-websocket').WebsocketProvider
  WebSocket: typeof import('ws').WebSocket
}

/** y-websocket's client and `ws` (Node 20 has no global WebSocket), for the upstream bridge. */
export const loadYWebsocket: () => Promise<YWebsocketModule> = once(async (): Promise<YWebsocketModule> => {
  const [{ WebsocketProvider }, { WebSocket }] = await Promise.all([
    import('y-websocket').catch((cause: unknown) => { throw missing('y-websocket', 'for --upstream', 'npm install y-websocket@3', cause) }),
    import('ws').catch((cause: unknown) => { throw missing('ws', 'for --upstream', 'npm install ws', cause) })
  ])
  return { WebsocketProvider, WebSocket }
})

/** Trystero strategies by name, and the package each lives in. */
export const strategyPackages = {
  mqtt: '@trystero-p2p/mqtt',
  nostr: '@trystero-p2p/nostr',
  torrent: '@trystero-p2p/torrent'
} as const

export type StrategyName = keyof typeof strategyPackages

/** A strategy's `joinRoom`. Literal imports, so that bundlers see each package. */
export const loadStrategy = async (name: StrategyName): Promise<JoinRoom<any>> => {
  const imports: Record<StrategyName, () => Promise<{ joinRoom: unknown }>> = {
    mqtt: async () => await import('@trystero-p2p/mqtt'),
    nostr: async () => await import('@trystero-p2p/nostr'),
    torrent: async () => await import('@trystero-p2p/torrent')
  }
  try {
    return (await imports[name]()).joinRoom as JoinRoom<any>
  } catch (cause) {
    throw missing(strategyPackages[name], `for --strategy ${name}`, `npm install ${strategyPackages[name]}`, cause)
  }
}
