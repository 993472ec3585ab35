/**
 * Tabs of one browser (one origin) talking over a `BroadcastChannel`, as y-webrtc does: two tabs
 * sync even with no network and every signaling relay down, and tabs that are also WebRTC peers
 * send each other nothing twice (PROTOCOL.md §7). One `TabChannel` per page and room; it speaks
 * for every document (channel) of the room the page has open, like the room hub does over WebRTC.
 *
 * In a private room every message is encrypted (AES-GCM, a key derived from the room's view key):
 * a tab without the room's key reads nothing, and is read by nobody. Tabs share an origin, so
 * they trust each other as far as the origin's storage does; a viewer tab says it is one, and
 * writers refuse its updates as over WebRTC.
 *
 * A tab that crashed says no BYE: tabs watch each other with the room channel's heartbeat
 * (`Liveness`, PROTOCOL.md §7), so that a crashed tab leaves `peers` within seconds and a frozen
 * one that comes back is taken in again.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { RoomRole } from '../admission/room-keys.js'
import { TrysteroYjsError } from '../errors.js'
import { readBoundedBytes } from '../protocol/read-bytes.js'
import { watchPage } from '../page-lifecycle.js'
import { notifyMember } from '../room/notify-member.js'
import { Liveness, defaultHeartbeat } from '../room/liveness.js'

/** What a tab says of itself. */
interface TabHello {
  /** The page's instance id, also in its WebRTC HELLO: the same page on both transports. */
  instance: string
  role: RoomRole
  /** Channels (documents) it has open. */
  channels: string[]
  /** Answer with your HELLO: I just arrived. */
  replyRequested: boolean
  /** It answers PING (`features` bit 0; a tab of an earlier version sends none, and is not watched). */
  heartbeat: boolean
}

type TabMessage =
  | ({ type: 'hello' } & TabHello)
  | { type: 'bye' }
  | { type: 'open', channel: string }
  | { type: 'close', channel: string }
  | { type: 'frame', channel: string, frame: Uint8Array }
  | { type: 'ping' }
  | { type: 'pong' }

const types = ['hello', 'bye', 'open', 'close', 'frame', 'ping', 'pong'] as const

/** HELLO's trailing `features`: bit 0, it answers PING. */
const heartbeatFeature = 1

const encodeTabMessage = (message: TabMessage): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, types.indexOf(message.type))
  switch (message.type) {
    case 'hello':
      encoding.writeVarUint(encoder, message.replyRequested ? 1 : 0)
      encoding.writeVarString(encoder, message.instance)
      encoding.writeVarUint(encoder, message.role === 'writer' ? 1 : 0)
      encoding.writeVarUint(encoder, message.channels.length)
      for (const channel of message.channels) encoding.writeVarString(encoder, channel)
      // Last, so that a tab of an earlier version, which stops reading after the channels, is not disturbed.
      encoding.writeVarUint(encoder, message.heartbeat ? heartbeatFeature : 0)
      break
    case 'open':
    case 'close':
      encoding.writeVarString(encoder, message.channel)
      break
    case 'frame':
      encoding.writeVarString(encoder, message.channel)
      encoding.writeVarUint8Array(encoder, message.frame)
      break
    case 'bye':
    case 'ping':
    case 'pong':
  }
  return encoding.toUint8Array(encoder)
}

/** Throws on a malformed message; `null` for an unknown type (a later version's). */
const decodeTabMessage = (bytes: Uint8Array): TabMessage | null => {
  const decoder = decoding.createDecoder(bytes)
  const type = types[decoding.readVarUint(decoder)]
  switch (type) {
    case 'hello': {
      const replyRequested = decoding.readVarUint(decoder) === 1
      const instance = decoding.readVarString(decoder)
      const role = decoding.readVarUint(decoder) === 1 ? 'writer' : 'viewer'
      const count = decoding.readVarUint(decoder)
      if (count > decoder.arr.length - decoder.pos) throw new RangeError(`tab HELLO lists ${count} channels in ${bytes.length} bytes`)
      const channels: string[] = []
      for (let i = 0; i < count; i++) channels.push(decoding.readVarString(decoder))
      const features = decoding.hasContent(decoder) ? decoding.readVarUint(decoder) : 0
      return { type, replyRequested, instance, role, channels, heartbeat: (features & heartbeatFeature) !== 0 }
    }
    case 'open':
    case 'close':
      return { type, channel: decoding.readVarString(decoder) }
    case 'frame':
      return { type, channel: decoding.readVarString(decoder), frame: readBoundedBytes(decoder) }
    case 'bye':
    case 'ping':
    case 'pong':
      return { type }
    default:
      return null
  }
}

/** What a channel's owner (a document session) hears from the tab channel: the hub's interface. */
export interface TabMember {
  peerOpened: (peerId: string) => void
  peerClosed: (peerId: string) => void
  message: (data: unknown, peerId: string) => void
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

/** A member's view of the other tabs, shaped like the room hub's `ChannelHandle`. */
export interface TabHandle {
  readonly ownRole: RoomRole
  openPeers: () => string[]
  roleOf: (peerId: string) => RoomRole | null
  /** The page instance behind a tab peer (the same page may also be a WebRTC peer). */
  instanceOf: (peerId: string) => string | null
  send: (frame: Uint8Array, targets: readonly string[]) => Promise<void>
  /** Stops hearing a tab (it broke a rule): closed for every channel until the page is reloaded. */
  shun: (peerId: string) => void
  detach: () => void
}

interface Tab {
  instance: string
  role: RoomRole
  channels: Set<string>
}

interface Envelope {
  from: string
  /** `null`: every tab. */
  to: string | null
  /** Encrypted with a room's key: an open room's tab leaves it alone, as a private room's leaves plain ones. */
  sealed: boolean
  data: Uint8Array
}

/** Peer ids of tabs, never a Trystero id: the prefix keeps them apart. */
export const tabPeerPrefix = 'tab:'

const channels = new Map<string, TabChannel>()

/** Tabs taken for gone that are remembered, to be asked to start over should they speak again. */
const maxSilentTabs = 64

export interface TabChannelOptions {
  /** This page's instance id (the room hub's, sent in its WebRTC HELLO too). */
  instance: string
  role: RoomRole
  /** AES-GCM key of a private room, or `null` for an open one. */
  key: CryptoKey | null
}

export class TabChannel {
  /**
   * The tab channel named `name` (one per room) of the page instance `options.instance` (the room
   * hub's: providers sharing a room share it), created on first use.
   */
  static for (name: string, options: TabChannelOptions): TabChannel {
    const key = `${name}\u0000${options.instance}`
    let channel = channels.get(key)
    if (channel === undefined) {
      channel = new TabChannel(name, options)
      channels.set(key, channel)
    }
    return channel
  }

  readonly id = `${tabPeerPrefix}${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`
  private readonly bc: BroadcastChannel
  private readonly tabs = new Map<string, Tab>()
  private readonly members = new Map<string, TabMember>()
  private readonly shunned = new Set<string>()
  /** Tabs taken for gone (not heard): one that is heard from again is asked for its HELLO. */
  private readonly silent = new Set<string>()
  private readonly liveness: Liveness
  /** Encryption and decryption are asynchronous: one chain each way keeps messages in order. */
  private sending: Promise<void> = Promise.resolve()
  private receiving: Promise<void> = Promise.resolve()
  private closed = false
  private readonly unwatchPage: () => void

  private constructor (private readonly name: string, private readonly options: TabChannelOptions) {
    this.liveness = new Liveness(defaultHeartbeat, {
      ping: (tabId) => { void this.post(tabId, { type: 'ping' }) },
      silent: (tabId, silentMs) => {
        this.reportAll(new TrysteroYjsError(`tab not heard from for ${silentMs} ms: taken for gone (it crashed or is frozen)`, { peerId: tabId }))
        this.forget(tabId)
        this.silent.add(tabId)
        // Tabs that never come back (crashed) are forgotten oldest first, past a page's worth.
        if (this.silent.size > maxSilentTabs) this.silent.delete(this.silent.values().next().value!)
      },
      // A silent tab is forgotten, not kept watched: it comes back through `silent` above.
      revived: () => {}
    })
    this.bc = new BroadcastChannel(name)
    this.bc.onmessage = (event: MessageEvent) => this.receive(event.data as Envelope)
    this.unwatchPage = watchPage({
      hidden: () => { void this.post(null, { type: 'bye' }) },
      // Back from the back/forward cache: the tabs may have changed meanwhile; start over with all.
      restored: () => {
        for (const tabId of [...this.tabs.keys()]) this.forget(tabId)
        void this.post(null, this.hello(true))
      }
    })
  }

  attach (key: string, member: TabMember): TabHandle {
    this.members.set(key, member)
    this.post(null, this.tabs.size === 0 && this.members.size === 1 ? this.hello(true) : { type: 'open', channel: key })
    return {
      ownRole: this.options.role,
      openPeers: () => [...this.tabs].filter(([, tab]) => tab.channels.has(key)).map(([id]) => id),
      roleOf: (peerId) => this.tabs.get(peerId)?.role ?? null,
      instanceOf: (peerId) => this.tabs.get(peerId)?.instance ?? null,
      send: async (frame, targets) => {
        const message: TabMessage = { type: 'frame', channel: key, frame }
        // Every tab hears every post: to all the tabs with this channel (an update, a cursor), once.
        let everyTab = true
        let reached = 0
        for (const [tabId, tab] of this.tabs) {
          if (!tab.channels.has(key)) continue
          if (targets.includes(tabId)) reached++
          else everyTab = false
        }
        if (everyTab && reached > 1) return await this.post(null, message)
        for (const peerId of targets) if (this.tabs.has(peerId)) await this.post(peerId, message)
      },
      shun: (peerId) => {
        this.shunned.add(peerId)
        this.forget(peerId)
      },
      detach: () => {
        if (this.members.get(key) !== member) return
        this.members.delete(key)
        void this.post(null, { type: 'close', channel: key })
        if (this.members.size === 0) this.close()
      }
    }
  }

  private hello (replyRequested: boolean): TabMessage {
    return { type: 'hello', replyRequested, instance: this.options.instance, role: this.options.role, channels: [...this.members.keys()], heartbeat: true }
  }

  private close (): void {
    if (this.closed) return
    this.closed = true
    void this.post(null, { type: 'bye' }).finally(() => this.bc.close())
    this.unwatchPage()
    this.liveness.stop()
    const key = `${this.name}\u0000${this.options.instance}`
    if (channels.get(key) === this) channels.delete(key)
  }

  /** A tab gone (BYE) or no longer heard: closed for every channel. */
  private forget (tabId: string): void {
    const tab = this.tabs.get(tabId)
    if (tab === undefined) return
    this.tabs.delete(tabId)
    this.liveness.unwatch(tabId)
    for (const key of tab.channels) this.notify(key, (m) => m.peerClosed(tabId))
  }

  private post (to: string | null, message: TabMessage): Promise<void> {
    const plain = encodeTabMessage(message)
    const posted = this.sending.then(async () => {
      if (this.closed && message.type !== 'bye') return
      const data = this.options.key === null ? plain : await encrypt(this.options.key, plain)
      this.bc.postMessage({ from: this.id, to, sealed: this.options.key !== null, data } satisfies Envelope)
    })
    this.sending = posted.catch(() => undefined)
    return posted
  }

  private receive (envelope: Envelope): void {
    if (typeof envelope !== 'object' || envelope === null || !(envelope.data instanceof Uint8Array) || typeof envelope.from !== 'string') return
    if ((envelope.to !== null && envelope.to !== this.id) || envelope.sealed !== (this.options.key !== null)) return
    this.receiving = this.receiving.then(async () => {
      let plain: Uint8Array
      try {
        plain = this.options.key === null ? envelope.data : await decrypt(this.options.key, envelope.data)
      } catch {
        // Another room's key (or none): not ours to read, and nothing to report.
        return
      }
      let message: TabMessage | null
      try {
        message = decodeTabMessage(plain)
      } catch (error) {
        this.reportAll(new TrysteroYjsError('malformed message from a tab dropped', { peerId: envelope.from, byteLength: plain.byteLength, cause: error }))
        return
      }
      if (message !== null && !this.closed && !this.shunned.has(envelope.from)) this.handle(envelope.from, message)
    })
  }

  private handle (from: string, message: TabMessage): void {
    const tab = this.tabs.get(from)
    if (tab !== undefined) this.liveness.heard(from)
    else if (this.silent.delete(from) && message.type !== 'hello' && message.type !== 'bye') {
      // Back after we took it for gone (a frozen tab resumed): it still counts us among its tabs,
      // so it must start over with us, as a page back from the back/forward cache does.
      void this.post(from, this.hello(true))
    }
    switch (message.type) {
      case 'hello': {
        // A tab we knew that asks for our HELLO starts over (back from the back/forward cache):
        // its channels close and open again, so that both sides ask for what they missed.
        const restart = tab !== undefined && (message.replyRequested || tab.instance !== message.instance || tab.role !== message.role)
        if (restart) this.forget(from)
        const before = restart ? new Set<string>() : tab?.channels ?? new Set<string>()
        const next: Tab = { instance: message.instance, role: message.role, channels: new Set(message.channels) }
        this.tabs.set(from, next)
        if (message.heartbeat && (tab === undefined || restart)) this.liveness.watch(from)
        // Our HELLO first: what members send it on opening (step 1) is dropped by a tab that
        // does not know us yet.
        if (message.replyRequested) void this.post(from, this.hello(false))
        for (const key of before) if (!next.channels.has(key)) this.notify(key, (m) => m.peerClosed(from))
        for (const key of next.channels) if (!before.has(key)) this.notify(key, (m) => m.peerOpened(from))
        return
      }
      case 'bye':
        this.forget(from)
        return
      case 'open':
        if (tab === undefined || tab.channels.has(message.channel)) return
        tab.channels.add(message.channel)
        this.notify(message.channel, (m) => m.peerOpened(from))
        return
      case 'close':
        if (tab === undefined || !tab.channels.delete(message.channel)) return
        this.notify(message.channel, (m) => m.peerClosed(from))
        return
      case 'frame':
        if (tab !== undefined) this.notify(message.channel, (m) => m.message(message.frame, from))
        return
      case 'ping':
        // Answered when received, never from a timer: a background tab's timers are throttled.
        if (tab !== undefined) void this.post(from, { type: 'pong' })
        return
      case 'pong':
        // Heard above; nothing else to do.
    }
  }

  private notify (key: string, f: (member: TabMember) => void): void {
    notifyMember(this.members.get(key), f, 'handling a tab\'s message')
  }

  private reportAll (error: TrysteroYjsError): void {
    for (const member of this.members.values()) member.report('warning', error)
  }
}

const encrypt = async (key: CryptoKey, plain: Uint8Array): Promise<Uint8Array> => {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plain as Uint8Array<ArrayBuffer>))
  const out = new Uint8Array(iv.length + sealed.length)
  out.set(iv)
  out.set(sealed, iv.length)
  return out
}

const decrypt = async (key: CryptoKey, data: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: data.subarray(0, 12) as Uint8Array<ArrayBuffer> }, key, data.subarray(12) as Uint8Array<ArrayBuffer>))
