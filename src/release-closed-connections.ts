/**
 * Trystero never calls `close()` on a connection that the other side closed first (shared-peer.mjs
 * clears the peer with `destroyPeer: false` on its `close` event, and the room's own destroy then
 * finds no binding left). In a browser that costs little; with node-datachannel's polyfill it keeps
 * the connection for the life of the process: the native peer connection holds its JavaScript
 * callbacks until `close()` (or the library's global `cleanup()`), and through them the
 * RTCPeerConnection, its data channel and everything Trystero hung on it — the room's signaling
 * state, its offer pool, its MQTT topic handlers — about 24 KB of heap per reconnect, plus the
 * native side (bench/scenarios/cycles.ts measures it).
 *
 * So the RTCPeerConnection class given to Trystero (`rtcPolyfill`) gets a subclass that closes a
 * connection once it is `closed` or `failed`: Trystero treats both as the end of that peer
 * (peer.mjs `handleConnectionStateChange`) and never uses it again, and `close()` on such a
 * connection changes nothing else.
 */

interface PeerConnectionLike {
  readonly connectionState?: string
  close: () => void
  addEventListener?: (type: string, listener: () => void) => void
}

type PeerConnectionClass = new (...args: any[]) => PeerConnectionLike

const released = new WeakMap<PeerConnectionClass, PeerConnectionClass>()
const isReleasing = Symbol('trystero-yjs releases closed connections')

/**
 * The same RTCPeerConnection class, whose connections close themselves once `closed` or `failed`.
 * trystero-yjs applies it to `rtcPolyfill` in the rooms it joins; apply it yourself to the
 * `rtcPolyfill` of a room you join and hand to a provider. Returns the same subclass for the
 * same class, and a class it made as it is.
 */
export const releaseClosedConnections = <Class extends PeerConnectionClass>(PeerConnection: Class): Class => {
  if ((PeerConnection as unknown as Record<symbol, boolean>)[isReleasing] === true) return PeerConnection
  const existing = released.get(PeerConnection)
  if (existing !== undefined) return existing as Class
  // A named class expression, so that heap snapshots and stack traces say what it is.
  const Releasing = class ReleasingPeerConnection extends PeerConnection {
    static readonly [isReleasing] = true
    constructor (...args: any[]) {
      super(...args)
      if (typeof this.addEventListener !== 'function') return
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'closed' || this.connectionState === 'failed') this.close()
      })
    }
  }
  released.set(PeerConnection, Releasing)
  return Releasing as Class
}

/** The strategy config with its `rtcPolyfill`, if any, replaced by the releasing subclass. */
export const withReleasedConnections = <Config extends { rtcPolyfill?: unknown }>(config: Config): Config =>
  typeof config.rtcPolyfill === 'function'
    ? { ...config, rtcPolyfill: releaseClosedConnections(config.rtcPolyfill as PeerConnectionClass) }
    : config
