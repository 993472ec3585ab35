/**
 * The upstream bridge: each kept room's document is also a y-websocket client of a server
 * engine (`@y/websocket-server`, or anything that speaks the y-websocket protocol), so that a
 * deployment that outgrows one keeper moves onto that server's persistence and scale-out instead
 * of a cluster of keepers. Edits flow both ways through the one Y.Doc: the P2P provider sends
 * what came from upstream, and y-websocket's client sends what came from peers.
 *
 * Documents only: cursors stay in the P2P room (the keeper has none of its own to show).
 */
import type * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { loadYWebsocket } from './optional-packages.js'

export type UpstreamStatus = 'connecting' | 'connected' | 'disconnected'

/** The state of one room's link to the server, as the keeper logs it. */
export interface UpstreamEvent {
  /** `connecting` only before the first attempt ended; retries while disconnected are not reported. */
  status: UpstreamStatus
  /** The server and the keeper exchanged their states since the connection opened. */
  synced: boolean
}

/** One room's connection to the server. */
export interface UpstreamLink {
  /** Disconnects this room from the server (the room unloads or is released). */
  destroy: () => void
}

/** Connects rooms' documents to a server. The keeper calls it once per loaded room. */
export interface Upstream {
  /** Where the server is, for the keeper's log lines. */
  readonly url: string
  /** Bridges one loaded room's document to the server until the link is destroyed. */
  connect: (doc: Y.Doc, roomId: string, onEvent: (event: UpstreamEvent) => void) => UpstreamLink
}

/**
 * A y-websocket server at `url` (`ws://host/path`): room `r` is the server's document at
 * `ws://host/path/r`, the name a y-websocket client of the same room uses.
 */
export const yWebsocketUpstream = async (url: string): Promise<Upstream> => {
  const { WebsocketProvider, WebSocket } = await loadYWebsocket()
  return {
    url,
    connect: (doc, roomId, onEvent) => {
      const awareness = new Awareness(doc)
      awareness.setLocalState(null)
      // y-websocket adds a process 'exit' listener per client: one per kept room would trip
      // Node's warning at 11 rooms, which is no leak here.
      process.setMaxListeners(process.getMaxListeners() + 1)
      const provider = new WebsocketProvider(url, roomId, doc, {
        awareness,
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        // Node has no other tabs; lib0's BroadcastChannel stand-in would only cost memory.
        disableBc: true
      })
      let last: UpstreamEvent = { status: 'connecting', synced: false }
      const update = (next: Partial<UpstreamEvent>): void => {
        const event = { ...last, ...next }
        if (event.status === last.status && event.synced === last.synced) return
        last = event
        onEvent(event)
      }
      // y-websocket retries every ~2.5 s while the server is away, each try a 'connecting' and a
      // 'disconnected': only the changes between connected and not are worth a line.
      provider.on('status', ({ status }: { status: UpstreamStatus }) => {
        if (status !== 'connecting') update({ status, synced: status === 'connected' ? last.synced : false })
      })
      provider.on('sync', (synced: boolean) => update({ synced }))
      let destroyed = false
      return {
        destroy: () => {
          if (destroyed) return
          destroyed = true
          provider.destroy()
          awareness.destroy()
          process.setMaxListeners(Math.max(10, process.getMaxListeners() - 1))
        }
      }
    }
  }
}
