/**
 * Node 20 has no global `WebSocket`, which Trystero's Nostr and BitTorrent strategies need. And
 * an unreachable relay makes `ws` emit an `error` event that, unheard, crashes the process; in a
 * browser the same failure is only logged. So the installed class always listens for errors.
 */
import { WebSocket as NodeWebSocket, type ClientOptions } from 'ws'

class QuietWebSocket extends NodeWebSocket {
  constructor (url: string | URL, protocols?: string | string[], options?: ClientOptions) {
    super(url, protocols, options)
    // Trystero reconnects on `close`, which follows the error.
    this.on('error', () => {})
  }
}

/**
 * Installs `ws` as `globalThis.WebSocket` unless the runtime has one (Node ≥ 22, Deno, Bun).
 * Call it before joining a room with the Nostr or BitTorrent strategy. Returns the class in use.
 */
export const useNodeWebSocket = (): typeof globalThis.WebSocket => {
  const global = globalThis as { WebSocket?: typeof globalThis.WebSocket }
  global.WebSocket ??= QuietWebSocket as unknown as typeof globalThis.WebSocket
  return global.WebSocket
}
