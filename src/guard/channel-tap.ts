/**
 * Puts the guard between an RTCDataChannel and whoever reads it (Trystero): every incoming
 * message reaches the guard first, and the channel's consumers (the `onmessage` handler and
 * `message` listeners) only get what the guard passes on; every outgoing message is shown to the
 * guard after it was sent.
 *
 * How a channel calls its `onmessage` differs: browsers keep it behind a prototype accessor and
 * call the stored handler; node-datachannel's polyfill keeps it as a plain own property and calls
 * `this.onmessage(e)` from a listener of its own. Both end up calling the guard's entry point:
 * the native setter gets it, and an own accessor returns it (reading `channel.onmessage` gives
 * that entry point, which is a faithful "handle this message"; setting it sets the consumer).
 */

export type MessageConsumer = ((this: unknown, event: MessageEvent) => unknown)
type Listener = EventListenerOrEventListenerObject

export interface ChannelTap {
  readonly channel: RTCDataChannel
  /** Hands `event` to the channel's consumers; returns what they threw (nothing escapes). */
  deliver: (event: MessageEvent) => unknown[]
}

export interface ChannelTapHooks {
  /** An incoming message, before any consumer sees it. Must not throw. */
  incoming: (tap: ChannelTap, event: MessageEvent) => void
  /** A message this side sent, after the channel accepted it. Must not throw. */
  outgoing: (data: unknown) => void
}

const findInheritedProperty = (object: object, name: string): PropertyDescriptor | undefined => {
  for (let proto = Object.getPrototypeOf(object); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, name)
    if (descriptor !== undefined) return descriptor
  }
  return undefined
}

const isListener = (value: unknown): value is Listener =>
  typeof value === 'function' || (typeof value === 'object' && value !== null && typeof (value as EventListenerObject).handleEvent === 'function')

export const tapDataChannel = (channel: RTCDataChannel, hooks: ChannelTapHooks): ChannelTap => {
  let handler: MessageConsumer | null = null
  const listeners: Array<{ listener: Listener, once: boolean }> = []

  const tap: ChannelTap = {
    channel,
    deliver: (event) => {
      const thrown: unknown[] = []
      const current = handler
      if (current !== null) {
        try { current.call(channel, event) } catch (error) { thrown.push(error) }
      }
      for (const entry of [...listeners]) {
        if (entry.once) removeListener(entry.listener)
        try {
          if (typeof entry.listener === 'function') entry.listener.call(channel, event)
          else entry.listener.handleEvent(event)
        } catch (error) { thrown.push(error) }
      }
      return thrown
    }
  }

  const removeListener = (listener: Listener): void => {
    const index = listeners.findIndex((entry) => entry.listener === listener)
    if (index >= 0) listeners.splice(index, 1)
  }

  // Named function: `this` is whatever the channel implementation calls it with; unused.
  const entryPoint = function guardedOnMessage (event: MessageEvent): void { hooks.incoming(tap, event) }

  // A handler set before the tap (node-datachannel dispatches `datachannel` to the page's
  // `ondatachannel` before the guard's listener, so Trystero's handler may already be there).
  const own = Object.getOwnPropertyDescriptor(channel, 'onmessage')
  const inherited = own === undefined ? findInheritedProperty(channel, 'onmessage') : undefined
  const existing: unknown = own !== undefined ? ('value' in own ? own.value : own.get?.call(channel)) : inherited?.get?.call(channel)
  if (typeof existing === 'function') handler = existing as MessageConsumer
  inherited?.set?.call(channel, entryPoint)
  Object.defineProperty(channel, 'onmessage', {
    configurable: true,
    enumerable: true,
    get: () => entryPoint,
    set: (value: unknown) => { handler = typeof value === 'function' ? value as MessageConsumer : null }
  })

  const nativeAdd = channel.addEventListener
  const nativeRemove = channel.removeEventListener
  Object.defineProperty(channel, 'addEventListener', {
    configurable: true,
    writable: true,
    value: function addEventListener (type: string, listener: unknown, options?: boolean | AddEventListenerOptions): void {
      if (type !== 'message' || !isListener(listener)) {
        nativeAdd.call(channel, type, listener as Listener, options)
        return
      }
      if (listeners.some((entry) => entry.listener === listener)) return
      const opts = typeof options === 'object' ? options : {}
      if (opts.signal?.aborted === true) return
      listeners.push({ listener, once: opts.once === true })
      opts.signal?.addEventListener('abort', () => removeListener(listener), { once: true })
    }
  })
  Object.defineProperty(channel, 'removeEventListener', {
    configurable: true,
    writable: true,
    value: function removeEventListener (type: string, listener: unknown, options?: boolean | EventListenerOptions): void {
      if (type !== 'message' || !isListener(listener)) {
        nativeRemove.call(channel, type, listener as Listener, options)
        return
      }
      removeListener(listener)
    }
  })

  const nativeSend = channel.send
  Object.defineProperty(channel, 'send', {
    configurable: true,
    writable: true,
    value: function send (data: unknown): void {
      nativeSend.call(channel, data as never)
      hooks.outgoing(data)
    }
  })

  return tap
}
