/**
 * What one peer may cost us (PROTOCOL.md §6). A peer over a limit is reported (`error`, with its
 * id, the limit, its value and the figure reached) and disconnected; the others keep syncing.
 */

export interface ProviderLimits {
  /**
   * The largest message a peer may send. With the connection guard (every room the provider
   * joins itself), Trystero stops reassembling it at this size, so it spares memory, not only
   * decoding. Default 128 MiB.
   */
  maxMessageBytes: number
  /** Messages per second a peer may send us, sustained (bursts of twice that). Default 1,000. */
  maxMessagesPerSecond: number
  /** Bytes per second a peer may send us, sustained (bursts of `maxMessageBytes`). Default 64 MiB. */
  maxBytesPerSecond: number
  /**
   * Bytes of updates a peer may leave waiting for history we do not have (Yjs's pending set,
   * kept per peer here). An honest peer's leftovers wait about one network hop. Default 1 MiB.
   */
  maxPendingBytes: number
  /** The number of such updates. Default 256. */
  maxPendingUpdates: number
  /**
   * Bytes a peer may make the connection guard hold for actions nobody listens to (yet) or
   * rooms we are not in (yet). Default 4 MiB.
   */
  maxHeldBytes: number
  /** A peer not heard from for this long is sent PING (PROTOCOL.md §2.3). Default 1,500 ms. */
  heartbeatInterval: number
  /** A peer not heard from for this long is taken for gone until it speaks again. Default 6,000 ms. */
  heartbeatTimeout: number
  /**
   * How long a peer with the document open may leave our step 1 unanswered, silent on this
   * document, before it is reported, no longer waited for by `synced`, and asked again (the wait
   * doubles each time, up to a minute). Default 5,000 ms; `0` waits forever.
   */
  syncTimeout: number
}

/** The limits a provider uses for what `options.limits` leaves out. */
export const defaultLimits: Readonly<ProviderLimits> = Object.freeze({
  maxMessageBytes: 128 * 1024 * 1024,
  maxMessagesPerSecond: 1000,
  maxBytesPerSecond: 64 * 1024 * 1024,
  maxPendingBytes: 1024 * 1024,
  maxPendingUpdates: 256,
  maxHeldBytes: 4 * 1024 * 1024,
  heartbeatInterval: 1500,
  heartbeatTimeout: 6000,
  syncTimeout: 5000
})

/** The limits with defaults filled in; throws on a value that is not a non-negative number. */
export const resolveLimits = (given: Partial<ProviderLimits> = {}): Readonly<ProviderLimits> => {
  const limits = { ...defaultLimits }
  for (const [name, value] of Object.entries(given) as Array<[keyof ProviderLimits, unknown]>) {
    if (!(name in defaultLimits)) throw new TypeError(`unknown limit ${JSON.stringify(name)}; the limits are ${Object.keys(defaultLimits).join(', ')}`)
    if (value === undefined) continue
    if (typeof value !== 'number' || !(value >= 0)) throw new TypeError(`limit ${name} must be a number >= 0, not ${String(value)}`)
    limits[name] = value
  }
  return Object.freeze(limits)
}
