/**
 * RTCPeerConnection and RTCDataChannel stand-ins for the guard's unit tests, in the two shapes
 * real implementations have: node-datachannel's (an own `onmessage` property that a listener of
 * the channel calls) and the browser's (an `onmessage` accessor on the prototype).
 */

abstract class FakeChannelBase extends EventTarget {
  abstract onmessage: ((event: MessageEvent) => void) | null
  readyState: RTCDataChannelState = 'open'
  /** What this side sent, in order. */
  readonly sent: unknown[] = []

  send (data: unknown): void {
    if (this.readyState !== 'open') throw new Error('channel not open')
    this.sent.push(data)
  }

  close (): void {
    if (this.readyState === 'closed') return
    this.readyState = 'closed'
    this.dispatchEvent(new Event('close'))
  }

  /** The peer sent `data`. */
  receive (data: unknown): void {
    this.dispatchEvent(new MessageEvent('message', { data }))
  }
}

/** node-datachannel's shape: `onmessage` is an own property, called from the channel's listener. */
export class FakeChannel extends FakeChannelBase {
  onmessage: ((event: MessageEvent) => void) | null = null

  constructor () {
    super()
    this.addEventListener('message', (event) => { if (this.onmessage) this.onmessage(event as MessageEvent) })
  }
}

/** The browser's shape: the handler is stored behind a prototype accessor and called directly. */
export class FakeBrowserChannel extends FakeChannelBase {
  #handler: ((event: MessageEvent) => void) | null = null

  constructor () {
    super()
    this.addEventListener('message', (event) => this.#handler?.call(this, event as MessageEvent))
  }

  get onmessage (): ((event: MessageEvent) => void) | null { return this.#handler }
  set onmessage (handler: ((event: MessageEvent) => void) | null) { this.#handler = handler }
}

export type AnyFakeChannel = FakeChannel | FakeBrowserChannel

export class FakePeerConnection extends EventTarget {
  connectionState: RTCPeerConnectionState = 'new'
  readonly channels: AnyFakeChannel[] = []
  closeCalls = 0
  ondatachannel: ((event: RTCDataChannelEvent) => void) | null = null

  constructor (readonly config?: unknown, private readonly Channel: new () => AnyFakeChannel = FakeChannel) {
    super()
    // As node-datachannel does: its own listener, registered first, calls `ondatachannel`.
    this.addEventListener('datachannel', (event) => this.ondatachannel?.(event as RTCDataChannelEvent))
  }

  createDataChannel (_label: string): AnyFakeChannel {
    const channel = new this.Channel()
    this.channels.push(channel)
    return channel
  }

  close (): void {
    this.closeCalls++
    this.connectionState = 'closed'
    for (const channel of this.channels) channel.close()
  }

  /** The peer opened a channel. */
  remoteChannel (): AnyFakeChannel {
    const channel = new this.Channel()
    this.channels.push(channel)
    const event = Object.assign(new Event('datachannel'), { channel })
    this.dispatchEvent(event)
    return channel
  }
}

export class FakeBrowserPeerConnection extends FakePeerConnection {
  constructor (config?: unknown) { super(config, FakeBrowserChannel) }
}
