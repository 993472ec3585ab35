/**
 * How the signaling is doing: which relays (Nostr relays, MQTT brokers, BitTorrent trackers) this
 * peer can reach, so that "0 peers" with every relay down is not mistaken for an empty room.
 *
 * What Trystero 0.25 exposes, per strategy module (measured in its dist/):
 * - `getRelaySockets()`: `{[url]: WebSocket}` for every relay the module has opened, whatever the
 *   room or app. Nostr and BitTorrent keep one socket per relay and replace it on every retry
 *   (backing off from ~3 s to 60 s, then giving up: the socket stays closed). MQTT returns the
 *   socket under mqtt.js's stream, which exists in browsers only: in Node its relays are unknown.
 * - relay failures (a Nostr relay's CLOSED/NOTICE, a tracker's "failure reason", a failed
 *   announce): `console.warn` only, silenced with `relayConfig.warnOnRelayFailure: false`;
 *   nothing an app can listen to. A Nostr relay that rejects us is closed and stays closed.
 * - the MQTT client (`connected`, `reconnecting`) stays inside the strategy module.
 * So this module reads the sockets: their `readyState` and their `open`/`close`/`error` events.
 */
import { TrysteroYjsError } from './errors.js'

/**
 * - `connecting`: its first connection attempt is under way.
 * - `open`: connected: peers can find us through it.
 * - `failed`: it closed, refused us, or did not answer within the connect timeout; it stays
 *   `failed` while Trystero retries, until a connection opens.
 * - `unknown`: the strategy does not show its socket (MQTT in Node, custom strategies).
 */
export type RelayState = 'connecting' | 'open' | 'failed' | 'unknown'

/** One signaling relay (Nostr relay, MQTT broker or BitTorrent tracker) and its state. */
export interface RelayStatus {
  /** The relay's URL, as configured or as the strategy opened it. */
  url: string
  /** See {@link RelayState}. */
  state: RelayState
}

/** The state of signaling, as `provider.signaling` and the `signaling` event give it. */
export interface SignalingStatus {
  /**
   * Relays in use while connecting or connected: the configured `relayConfig.urls`, or else every
   * relay the strategy module opened. `0` while disconnected.
   */
  total: number
  /** Relays connected now. */
  reachable: number
  /** Each relay and its state. */
  relays: RelayStatus[]
  /** The last failure seen, naming its relay, e.g. `ws://…: could not connect (code 1006)`; `null` if none. */
  lastError: string | null
}

/** What `getRelaySockets()` returns: a WebSocket, or anything with its `readyState` and events. */
export interface RelaySocket {
  /** WebSocket's: 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number
  /** For `open`, `close` and `error`, heard at once rather than at the next look. */
  addEventListener?: (type: string, listener: (event: unknown) => void) => void
  /** Undoes `addEventListener`. */
  removeEventListener?: (type: string, listener: (event: unknown) => void) => void
}

/** A strategy module's `getRelaySockets` (`import {getRelaySockets} from '@trystero-p2p/nostr'`). */
export type GetRelaySockets = () => Record<string, RelaySocket | null | undefined>

export interface SignalingMonitorOptions {
  /** Where the sockets are; without it every configured relay is `unknown`. */
  getRelaySockets?: GetRelaySockets | undefined
  /** `relayConfig.urls`: only these relays count (the strategy module may hold others). */
  urls?: string[] | undefined
  /** Called with the new status whenever it changes. */
  onChange: (status: SignalingStatus) => void
  /** Called once each time every relay has failed (again after one was reachable). */
  onUnreachable: (error: TrysteroYjsError) => void
  /** How often to look for sockets Trystero replaced (retries). Default 1,000 ms. */
  pollMs?: number
  /** A relay still connecting after this long counts as failed. Default 10,000 ms. */
  connectTimeoutMs?: number
}

const open = 1
const defaultPollMs = 1000
const defaultConnectTimeoutMs = 10_000

interface Tracked {
  socket: RelaySocket
  /** When this socket was first seen. */
  seenAt: number
  /** Failed since the last time a socket of this relay was open. */
  failed: boolean
  everOpened: boolean
  /** The message of this socket's `error` event (Node's `ws` has one; browsers give none). */
  errorMessage: string | null
  detach: () => void
}

/**
 * Watches a strategy's relay sockets while started. Pure bookkeeping over whatever
 * `getRelaySockets()` returns, so it is tested with stand-in sockets.
 */
export class SignalingMonitor {
  private readonly options: SignalingMonitorOptions
  private readonly tracked = new Map<string, Tracked>()
  private timer: ReturnType<typeof setInterval> | null = null
  private current: SignalingStatus
  private lastError: string | null = null
  private unreachableReported = false

  constructor (options: SignalingMonitorOptions) {
    this.options = options
    this.current = this.read()
  }

  /** The status as of the last look (every `pollMs`, and on every socket event). */
  get status (): SignalingStatus {
    return { ...this.current, relays: this.current.relays.map((relay) => ({ ...relay })) }
  }

  /** Starts watching (idempotent). */
  start (): void {
    if (this.timer !== null) return
    this.timer = setInterval(() => this.update(), this.options.pollMs ?? defaultPollMs)
    // A Node app must not be kept alive by this alone.
    ;(this.timer as { unref?: () => void }).unref?.()
    this.update()
    // The provider starts us as it starts joining: look again once the strategy has had a turn
    // to open its sockets, to hear their first events rather than find them already closed.
    const soon = setTimeout(() => { if (this.timer !== null) this.update() }, 0)
    ;(soon as { unref?: () => void }).unref?.()
  }

  /** Stops watching and forgets the sockets: a later `start()` judges every relay afresh. */
  stop (): void {
    if (this.timer === null) return
    clearInterval(this.timer)
    this.timer = null
    for (const entry of this.tracked.values()) entry.detach()
    this.tracked.clear()
    this.unreachableReported = false
    this.update()
  }

  /** Looks at the sockets now, and reports what changed. */
  update (): void {
    const next = this.read()
    const changed = JSON.stringify(next) !== JSON.stringify(this.current)
    this.current = next
    if (next.reachable > 0) this.unreachableReported = false
    if (changed) this.options.onChange(this.status)
    if (this.timer !== null && !this.unreachableReported && next.total > 0 && next.relays.every((r) => r.state === 'failed')) {
      this.unreachableReported = true
      this.options.onUnreachable(new TrysteroYjsError(
        `no signaling relay reachable (0 of ${next.total}): peers cannot find each other${next.lastError === null ? '' : `; last error: ${next.lastError}`}`))
    }
  }

  private read (): SignalingStatus {
    // Stopped (the provider is disconnected): no relay is in use for this room, whatever state
    // the strategy's sockets are in (they stay open for other rooms).
    if (this.timer === null) return { total: 0, reachable: 0, relays: [], lastError: this.lastError }
    const sockets = this.options.getRelaySockets?.() ?? {}
    const urls = this.options.urls ?? Object.keys(sockets)
    const relays = urls.map((url): RelayStatus => ({ url, state: this.stateOf(url, sockets[url] ?? null) }))
    return {
      total: relays.length,
      reachable: relays.filter((r) => r.state === 'open').length,
      relays,
      lastError: this.lastError
    }
  }

  private stateOf (url: string, socket: RelaySocket | null): RelayState {
    if (socket === null) return 'unknown'
    let entry = this.tracked.get(url)
    if (entry?.socket !== socket) {
      // A new socket: Trystero's retry, or the first one. A relay that failed stays failed
      // until a connection opens.
      entry?.detach()
      entry = this.track(url, socket, entry)
    }
    if (socket.readyState === open) {
      entry.failed = false
      entry.everOpened = true
      return 'open'
    }
    if (socket.readyState > open) {
      if (!entry.failed) this.fail(entry, url, null)
      return 'failed'
    }
    const timeout = this.options.connectTimeoutMs ?? defaultConnectTimeoutMs
    if (!entry.failed && Date.now() - entry.seenAt >= timeout) this.fail(entry, url, `no answer within ${timeout} ms`)
    return entry.failed ? 'failed' : 'connecting'
  }

  private track (url: string, socket: RelaySocket, previous: Tracked | undefined): Tracked {
    const onEvent = (event: unknown): void => {
      const { type, code, message } = (event ?? {}) as { type?: string, code?: unknown, message?: unknown }
      const entry = this.tracked.get(url)
      if (entry?.socket !== socket) return
      if (type === 'error' && typeof message === 'string' && message.length > 0) entry.errorMessage = message
      if (type === 'close') this.fail(entry, url, typeof code === 'number' ? `code ${code}` : null)
      // After the socket's own dispatch, so that its state is settled.
      queueMicrotask(() => { if (this.timer !== null) this.update() })
    }
    const events = ['open', 'close', 'error']
    for (const type of events) socket.addEventListener?.(type, onEvent)
    const entry: Tracked = {
      socket,
      seenAt: Date.now(),
      failed: previous?.failed ?? false,
      everOpened: previous?.everOpened ?? false,
      errorMessage: null,
      detach: () => { for (const type of events) socket.removeEventListener?.(type, onEvent) }
    }
    this.tracked.set(url, entry)
    return entry
  }

  /** Marks a relay failed and words why: `url: could not connect: ECONNREFUSED … (code 1006)`. */
  private fail (entry: Tracked, url: string, detail: string | null): void {
    const what = entry.everOpened ? 'connection lost' : 'could not connect'
    const reasons = [entry.errorMessage, detail].filter((r): r is string => r !== null)
    this.lastError = `${url}: ${what}${reasons.length === 0 ? '' : `: ${reasons.join(', ')}`}`
    entry.failed = true
  }
}

/**
 * `getRelaySockets` of the `trystero` package (Nostr), for a provider that loads that package
 * itself: empty until the package is loaded, and if it is not installed.
 */
export const defaultStrategyRelaySockets = (): GetRelaySockets => {
  let loaded: GetRelaySockets | null = null
  let loading = false
  return () => {
    if (!loading) {
      loading = true
      import('trystero').then((trystero: { getRelaySockets?: GetRelaySockets }) => { loaded = trystero.getRelaySockets ?? null }, () => {})
    }
    return loaded?.() ?? {}
  }
}
