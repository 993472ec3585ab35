/**
 * The RTCPeerConnection class to give Trystero as `rtcPolyfill`: the same class with a
 * {@link ConnectionGuard} in front of every data channel of every connection it makes.
 *
 * Trystero creates connections for offers with the config of the *first* room joined in a
 * strategy module (its offer pool), and for answers with the config of the room answering; every
 * room an app joins in that module must therefore pass the guarded class, or some connections
 * go unguarded.
 */
import { TrysteroYjsError } from '../errors.js'
import { ConnectionGuard, type ConnectionGuardOptions } from './connection-guard.js'

/** Any RTCPeerConnection class: the browser's, node-datachannel's polyfill, werift's. */
export type PeerConnectionClass = new (...args: any[]) => RTCPeerConnection

const guards = new WeakMap<object, ConnectionGuard>()
const guardedClasses = new WeakSet<PeerConnectionClass>()
const cache = new WeakMap<PeerConnectionClass, Map<string, PeerConnectionClass>>()

/**
 * The guard of `connection` (an RTCPeerConnection made by a guarded class, e.g. a value of
 * Trystero's `room.getPeers()`), or `undefined` if it has none.
 */
export const connectionGuard = (connection: unknown): ConnectionGuard | undefined =>
  typeof connection === 'object' && connection !== null ? guards.get(connection) : undefined

/** Options compared by value, so that every provider asking with the same limits gets one class. */
const cacheKey = (options: ConnectionGuardOptions): string | null => {
  if (options.now !== undefined) return null
  const { rateLimit, ...limits } = options
  const sorted = (object: object): Array<[string, unknown]> => Object.entries(object).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b))
  return JSON.stringify([sorted(limits), sorted(rateLimit ?? {})])
}

/** A guarded class, or a subclass of one (an app's own class over a guarded base). */
const isGuarded = (Base: PeerConnectionClass): boolean => {
  for (let c: unknown = Base; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
    if (guardedClasses.has(c as PeerConnectionClass)) return true
  }
  return false
}

/**
 * A subclass of `Base` (default: the global RTCPeerConnection) whose connections are guarded
 * with `options`; pass it to Trystero as `rtcPolyfill`. One class per `Base` and options: the
 * same arguments give the same class. A class that is already guarded is returned as is.
 */
export const guardRtcPolyfill = <C extends PeerConnectionClass>(
  Base: C | undefined = (globalThis as unknown as { RTCPeerConnection?: C }).RTCPeerConnection,
  options: ConnectionGuardOptions = {}
): C => {
  if (typeof Base !== 'function') {
    throw new TrysteroYjsError('guardRtcPolyfill: no RTCPeerConnection here; pass one (in Node: node-datachannel/polyfill)')
  }
  if (isGuarded(Base)) return Base
  const key = cacheKey(options)
  const known = key === null ? undefined : cache.get(Base)?.get(key)
  if (known !== undefined) return known as C

  const Guarded = class GuardedRTCPeerConnection extends Base {
    constructor (...args: any[]) {
      super(...args)
      const guard = new ConnectionGuard(this, options)
      guards.set(this, guard)
      // Channels the peer opens. Added after the base class's own listeners: node-datachannel's
      // calls `ondatachannel` (Trystero's) first, which is why adopting takes over a handler that
      // is already set.
      this.addEventListener('datachannel', (event) => guard.adopt(event.channel))
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'closed' || this.connectionState === 'failed') guard.stop(`connection ${this.connectionState}`)
      })
    }

    override createDataChannel (label: string, init?: RTCDataChannelInit): RTCDataChannel {
      const channel = super.createDataChannel(label, init)
      guards.get(this)?.adopt(channel)
      return channel
    }

    override close (): void {
      try {
        super.close()
      } finally {
        guards.get(this)?.stop('connection closed')
      }
    }
  }
  guardedClasses.add(Guarded)
  if (key !== null) {
    let byOptions = cache.get(Base)
    if (byOptions === undefined) cache.set(Base, byOptions = new Map())
    byOptions.set(key, Guarded)
  }
  return Guarded
}
