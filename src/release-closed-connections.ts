/**
 * Connections that end keep their memory with node-datachannel, for two reasons that are not ours:
 *
 * - Trystero never calls `close()` on a connection that the other side closed first (shared-peer.mjs
 *   clears the peer with `destroyPeer: false` on its `close` event, and the room's destroy then
 *   finds no binding left). node-datachannel's native peer connection holds its JavaScript
 *   callbacks until `close()`, and through them the RTCPeerConnection and everything Trystero hung
 *   on it: the peer's handlers, the shared peer, the room's signaling state, its offer pool, its
 *   MQTT topic handlers — about 24 KB of heap per reconnect (bench/scenarios/cycles.ts).
 * - When a data channel is closed and its connection right after (Trystero's `peer.destroy()`),
 *   node-datachannel sometimes never delivers the channel's `close`: its native channel keeps the
 *   `onClosed` callback, hence the RTCDataChannel, and through Trystero's `onclose` handler the
 *   same graph: a few connections in 100 (2 to 8 in our runs) on the peer that closes.
 *
 * So the RTCPeerConnection class given to Trystero (`rtcPolyfill`) gets a subclass that, once a
 * connection is `closed` or `failed` (Trystero treats both as the end of that peer, peer.mjs
 * `handleConnectionStateChange`, and never uses it again), closes it and lets go of every handler
 * and listener on it and on its data channels: whatever still holds a channel then holds a few
 * small objects, not a room.
 */

interface EventTargetLike {
  addEventListener (type: string, listener: any, options?: any): void
  removeEventListener (type: string, listener: any, options?: any): void
}

interface PeerConnectionLike {
  readonly connectionState?: string
  addEventListener? (type: string, listener: any, options?: any): void
  removeEventListener? (type: string, listener: any, options?: any): void
  close (): void
  createDataChannel (...args: any[]): any
}

type PeerConnectionClass = new (...args: any[]) => PeerConnectionLike

/** Handler properties that Trystero (peer.mjs) or the polyfill set on a connection or a channel. */
const connectionHandlers = ['onconnectionstatechange', 'ondatachannel', 'onicecandidate', 'onicecandidateerror', 'oniceconnectionstatechange',
  'onicegatheringstatechange', 'onnegotiationneeded', 'onsignalingstatechange', 'ontrack', 'onremovestream']
const channelHandlers = ['onopen', 'onmessage', 'onclose', 'onclosing', 'onerror', 'onbufferedamountlow']

interface Held {
  listeners: Array<[type: string, listener: unknown, options: unknown]>
  channels: Set<Record<string, unknown>>
}

/** Kept outside the instance: the base constructor adds listeners before subclass fields exist. */
const held = new WeakMap<object, Held>()
const heldBy = (connection: object): Held => {
  let entry = held.get(connection)
  if (entry === undefined) {
    entry = { listeners: [], channels: new Set() }
    held.set(connection, entry)
  }
  return entry
}

const release = (connection: PeerConnectionLike & EventTargetLike): void => {
  connection.close()
  const entry = heldBy(connection)
  held.delete(connection)
  for (const [type, listener, options] of entry.listeners) connection.removeEventListener(type, listener, options)
  const target = connection as unknown as Record<string, unknown>
  for (const name of connectionHandlers) if (target[name] != null) target[name] = null
  for (const channel of entry.channels) for (const name of channelHandlers) if (channel[name] != null) channel[name] = null
}

const released = new WeakMap<PeerConnectionClass, PeerConnectionClass>()
const isReleasing = Symbol('trystero-yjs releases ended connections')

/**
 * The same RTCPeerConnection class, whose connections, once `closed` or `failed`, close
 * themselves and drop their handlers and listeners and those of their data channels.
 * trystero-yjs applies it to `rtcPolyfill` in the rooms it joins; apply it yourself to the
 * `rtcPolyfill` of a room you join and hand to a provider. Returns the same subclass for the
 * same class, and a class it made as it is.
 */
export const releaseClosedConnections = <Class extends PeerConnectionClass>(PeerConnection: Class): Class => {
  if ((PeerConnection as unknown as Record<symbol, boolean>)[isReleasing] === true) return PeerConnection
  const existing = released.get(PeerConnection)
  if (existing !== undefined) return existing as Class
  const base = PeerConnection.prototype as unknown as Partial<EventTargetLike>
  // Without events (not an RTCPeerConnection of any implementation we know) it changes nothing.
  const canListen = typeof base.addEventListener === 'function' && typeof base.removeEventListener === 'function'
  // A named class expression, so that heap snapshots and stack traces say what it is.
  const Releasing = class ReleasingPeerConnection extends PeerConnection {
    static readonly [isReleasing] = true
    constructor (...args: any[]) {
      super(...args)
      if (!canListen) return
      const self = this as PeerConnectionLike & EventTargetLike
      self.addEventListener('datachannel', (event: { channel?: Record<string, unknown> }) => {
        if (event.channel !== undefined) held.get(self)?.channels.add(event.channel)
      })
      self.addEventListener('connectionstatechange', () => {
        if ((self.connectionState === 'closed' || self.connectionState === 'failed') && held.has(self)) release(self)
      })
    }

    override createDataChannel (...args: any[]): any {
      const channel = super.createDataChannel(...args)
      held.get(this)?.channels.add(channel)
      return channel
    }

    override addEventListener (type: string, listener: unknown, options?: unknown): void {
      if (canListen) heldBy(this).listeners.push([type, listener, options])
      base.addEventListener?.call(this, type, listener, options)
    }

    // Trystero adds and removes a listener per offer or answer (peer.mjs waitForIceGathering).
    override removeEventListener (type: string, listener: unknown, options?: unknown): void {
      const listeners = held.get(this)?.listeners
      const i = listeners?.findIndex(([t, l]) => t === type && l === listener) ?? -1
      if (i >= 0) listeners!.splice(i, 1)
      base.removeEventListener?.call(this, type, listener, options)
    }
  }
  released.set(PeerConnection, Releasing)
  return Releasing as Class
}
