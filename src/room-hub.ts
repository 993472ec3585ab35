/**
 * One hub per Trystero room object: it runs the room channel of PROTOCOL.md §2 (which peer has
 * which channel open) for every channel opened on the room in this process — a provider per
 * document, or the LWW teaching types — so that several of them share one room, and so that a
 * peer that has the room but not the document is neither sent its traffic nor waited for.
 *
 * A hub lives as long as its room is joined, also after its last channel closed: it keeps
 * answering joins with a HELLO (listing nothing), so that new peers need not wait
 * `peerHelloTimeout` for a peer that merely has no document open right now.
 */
import { AdmissionGate } from './admission/admission-gate.js'
import { compressionAvailable } from './compact/deflate-raw.js'
import { claimActionNames, connectionGuard, type GuardViolation } from './guard/index.js'
import type { RoomCredentials } from './admission/room-keys.js'
import { TrysteroYjsError } from './errors.js'
import type { ChannelHandle, ChannelMember, RoomHubOptions } from './room/channel-contract.js'
import { tapPeerEvents, type PeerEventTap, type RoomEventListener } from './peer-event-tap.js'
import {
  decodeRoomMessage,
  encodeRoomMessage,
  features,
  protocolVersion,
  roomChannelName,
  roomMessageTypeName,
  type RoomMessage
} from './protocol/room-messages.js'
import { defaultLimits, type ProviderLimits } from './limits.js'
import { connectionBytesReceived } from './room/connection-stats.js'
import { Liveness } from './room/liveness.js'
import { PeerDirectory, type RemotePeer } from './room/peer-directory.js'
import { PeerRates } from './room/rate-limit.js'
import { broadcastChannelAvailable, newPageInstance, TabPeers } from './room/tab-peers.js'
import type { TrysteroAction, TrysteroRoom } from './room-types.js'
import { notifyMember } from './room/notify-member.js'

export type { ChannelHandle, ChannelMember, RoomHubOptions } from './room/channel-contract.js'

const hubs = new WeakMap<TrysteroRoom, RoomHub>()

/** Messages that arrive for a channel nobody here has open are dropped, not left to Trystero,
 * which would buffer them without limit while `onMessage` is `null`. */
const dropMessage = (): void => {}

export class RoomHub implements RoomEventListener {
  /** The room's hub, created on first use. */
  static for (room: TrysteroRoom, options: RoomHubOptions): RoomHub {
    let hub = hubs.get(room)
    if (!hub) {
      hub = new RoomHub(room, options)
      hubs.set(room, hub)
    } else if (options.credentials !== undefined && !sameCredentials(options.credentials, hub.gate.credentials)) {
      throw new TrysteroYjsError(hub.gate.credentials === null
        ? 'this room already has channels open without a password: give the password to the first one opened'
        : 'this room already has channels open with other keys (another password, or another role)')
    }
    return hub
  }

  /**
   * The settings of `options` this hub does not follow: it was made with an earlier channel's
   * (per room, the first provider's `compactSync` and `broadcastChannel` apply), as `name: value`.
   */
  ignoredSettings (options: Pick<RoomHubOptions, 'compactSync' | 'broadcastChannel'>): string[] {
    const ignored: string[] = []
    if (options.compactSync !== undefined && options.compactSync !== this.compact) ignored.push(`compactSync: ${String(this.compact)}`)
    // Asked for where there is no BroadcastChannel: it could not be had anyway.
    const tabsAsked = (options.broadcastChannel ?? null) !== null && broadcastChannelAvailable()
    if (options.broadcastChannel !== undefined && tabsAsked !== (this.tabs !== null)) ignored.push(`broadcastChannel: ${String(this.tabs !== null)}`)
    return ignored
  }

  private readonly peers: PeerDirectory
  private readonly members = new Map<string, { member: ChannelMember, action: TrysteroAction }>()
  private readonly control: TrysteroAction
  private readonly tap: PeerEventTap
  private readonly gate: AdmissionGate
  private readonly liveness: Liveness
  private readonly rates: PeerRates
  private readonly limits: Readonly<ProviderLimits>
  /** Releases of the action names claimed for the connection guard, until the room is left. */
  private readonly claims: Array<() => void> = []
  private pingSeq = 0
  private started = false
  /** We announce `compactSync` (PROTOCOL.md §3.7). */
  private readonly compact: boolean
  /** This page's instance in this room (PROTOCOL.md §7), in our HELLO when we have tabs. */
  private readonly instance = newPageInstance()
  /** The page's other tabs, when the room has a BroadcastChannel. */
  private readonly tabs: TabPeers | null

  private constructor (readonly room: TrysteroRoom, private readonly options: RoomHubOptions) {
    this.tap = tapPeerEvents(room, (error) => this.reportAll('error', new TrysteroYjsError('room event handler failed', { cause: error })))
    this.control = room.makeAction(roomChannelName)
    this.claim(roomChannelName)
    this.gate = new AdmissionGate(options.credentials ?? null, {
      connectionOf: (peerId) => this.room.getPeers()[peerId],
      send: (peerId, message) => this.sendControl(message, peerId),
      admitted: (peerId) => {
        const peer = this.peers.get(peerId)
        if (peer !== undefined) this.sendHello(peerId, peer.replyRequested)
      },
      refused: (peerId, error) => this.disconnectPeer(peerId, error)
    })
    this.peers = new PeerDirectory(options.peerHelloTimeout, {
      opened: (peerId, key, stateVector) => this.notify(key, (member) => member.peerOpened(peerId, stateVector)),
      closed: (peerId, key) => this.notify(key, (member) => member.peerClosed(peerId)),
      pendingChanged: () => { for (const key of this.members.keys()) this.notify(key, (member) => member.pendingChanged()) },
      helloTimedOut: (peerId) => {
        const admitted = this.gate.state(peerId) === 'admitted'
        this.reportAll('warning', new TrysteroYjsError(admitted
          ? `peer sent no HELLO within ${this.options.peerHelloTimeout} ms; treating it as having no document open`
          : `peer did not prove the room's keys within ${this.options.peerHelloTimeout} ms; nothing is sent to it, and nobody waits for it`,
        { peerId, messageType: admitted ? 'hello' : 'proof' }))
      }
    })
    const name = options.broadcastChannel ?? null
    this.tabs = name === null || !broadcastChannelAvailable()
      ? null
      : new TabPeers({ name, instance: this.instance, role: this.gate.role, key: options.credentials?.broadcastKey ?? null, instanceOf: (peerId) => this.peers.get(peerId)?.instance ?? null })
    this.compact = options.compactSync ?? compressionAvailable()
    const limits = this.limits = options.limits ?? defaultLimits
    this.rates = new PeerRates({ maxMessagesPerSecond: limits.maxMessagesPerSecond, maxBytesPerSecond: limits.maxBytesPerSecond, burstBytes: limits.maxMessageBytes })
    this.liveness = new Liveness({ intervalMs: limits.heartbeatInterval, timeoutMs: limits.heartbeatTimeout }, {
      ping: (peerId) => this.sendControl({ type: 'ping', seq: this.pingSeq++ }, peerId),
      bytesReceived: async (peerId) => await connectionBytesReceived(this.room.getPeers()[peerId]),
      silent: (peerId, silentMs) => this.silenced(peerId, silentMs),
      revived: (peerId) => this.revived(peerId)
    })
  }

  /**
   * Opens channel `key` for `member`. Peers already known to have it open are not reported as
   * `peerOpened`: read them from `handle.openPeers()`, once the caller holds the handle.
   */
  attach (key: string, member: ChannelMember): ChannelHandle {
    if (this.members.has(key)) {
      throw new TrysteroYjsError(`channel ${key} is already open on this room: one provider per document and room`)
    }
    return this.tabs?.attach(key, member, (webrtcMember) => this.attachWebrtc(key, webrtcMember)) ?? this.attachWebrtc(key, member)
  }

  private attachWebrtc (key: string, member: ChannelMember): ChannelHandle {
    const action = this.room.makeAction(key)
    this.claim(key)
    action.onMessage = (data, { peerId }) => {
      this.liveness.heard(peerId)
      const byteLength = byteLengthOf(data)
      if (!this.withinRate(peerId, byteLength, key)) return
      if (this.gate.state(peerId) === 'admitted') member.message(data, peerId)
      else this.gate.hold(peerId, byteLength, key, () => member.message(data, peerId))
    }
    // Every chunk of a long message is a sign of life. Trystero also reports the last chunk of
    // every message (progress 1): the member hears of the others only, a message on its way.
    action.onReceiveProgress = (progress, { peerId }) => {
      this.liveness.heard(peerId)
      if (progress < 1 && this.gate.state(peerId) === 'admitted') member.progress?.(peerId)
    }
    this.members.set(key, { member, action })
    if (this.started) {
      this.broadcast({ type: 'open', channel: key, stateVector: this.compact ? member.stateVector?.() ?? noStateVector : null })
    } else {
      this.start()
    }
    return {
      room: this.room,
      ownRole: this.gate.role,
      openPeers: () => this.peers.openPeers(key),
      isAdmitted: (peerId) => this.gate.state(peerId) === 'admitted',
      refused: (peerId) => this.gate.state(peerId) === 'refused',
      roleOf: (peerId) => this.gate.roleOf(peerId),
      pendingPeerCount: () => this.peers.pendingCount(),
      lastHeard: (peerId) => this.liveness.lastHeard(peerId),
      disconnect: (peerId, error) => this.disconnectPeer(peerId, error),
      compactSync: (peerId) => this.compact && ((this.peers.get(peerId)?.features ?? 0) & features.compactSync) !== 0,
      acceptsCompact: this.compact,
      charge: (peerId, bytes, messageType, messages = 0) => this.withinRate(peerId, bytes, messageType, messages),
      send: async (data, requested) => {
        // Nothing of a document goes to a peer that has not proved the room's keys.
        const targets = requested.filter((peerId) => this.gate.state(peerId) === 'admitted')
        if (targets.length === 0 || this.members.get(key)?.member !== member) return
        for (const peerId of targets) this.liveness.sending(peerId, 1)
        try {
          await action.send(data, { target: targets })
        } catch (error) {
          member.report('error', new TrysteroYjsError('send failed', { peerId: targets.join(','), byteLength: data.byteLength, cause: error }))
        } finally {
          for (const peerId of targets) this.liveness.sending(peerId, -1)
        }
      },
      detach: () => this.detach(key, member)
    }
  }

  private start (): void {
    this.started = true
    this.control.onMessage = (data, context) => this.receive(data, context.peerId)
    this.tap.listen(this)
    // These peers connected before we spoke: they sent their HELLO to nobody, so ask for it.
    for (const peerId of Object.keys(this.room.getPeers())) this.addPeer(peerId, true)
  }

  private detach (key: string, member: ChannelMember): void {
    const entry = this.members.get(key)
    if (entry?.member !== member) return
    this.members.delete(key)
    entry.action.onMessage = dropMessage
    this.broadcast({ type: 'close', channel: key })
  }

  private dispose (): void {
    this.liveness.stop()
    for (const release of this.claims.splice(0)) release()
    this.tap.listen(null)
    this.control.onMessage = dropMessage
    this.peers.clear()
    this.started = false
    if (hubs.get(this.room) === this) hubs.delete(this.room)
  }

  // --- room events (from the tap) ---

  peerJoined (peerId: string): void {
    // Trystero replaces a reconnected peer without a leave event: start over with it.
    if (this.peers.has(peerId)) this.removePeer(peerId)
    this.addPeer(peerId, false)
  }

  peerLeft (peerId: string): void {
    this.removePeer(peerId)
  }

  actionMade (name: string): void {
    this.claim(name)
  }

  roomLeft (): void {
    const members = [...this.members.values()]
    for (const peerId of this.peers.ids()) this.removePeer(peerId)
    this.members.clear()
    this.dispose()
    for (const { member, action } of members) {
      action.onMessage = dropMessage
      member.roomLeft()
    }
  }

  // --- peers ---

  private addPeer (peerId: string, replyRequested: boolean): void {
    const peer = this.peers.add(peerId, replyRequested)
    peer.unwatchGuard = this.watchGuard(peerId)
    // Sends our HELLO at once in an open room, after the peer's proof in a private one.
    this.gate.peerAdded(peerId)
  }

  private removePeer (peerId: string): void {
    const peer = this.peers.get(peerId)
    if (!peer) return
    peer.unwatchGuard()
    this.gate.peerRemoved(peerId)
    this.liveness.unwatch(peerId)
    this.rates.forget(peerId)
    this.peers.remove(peerId)
  }

  /** Lets our actions through the connection guard (frames for names nobody claimed wait there). */
  private claim (name: string): void {
    this.claims.push(claimActionNames([name], this.options.claimScope))
  }

  /**
   * The connection guard under a peer's connection (rooms the provider joins itself have one):
   * any frame counts as life, and a violation disconnects the peer.
   */
  private watchGuard (peerId: string): () => void {
    const guard = connectionGuard(this.room.getPeers()[peerId])
    if (guard === null || guard === undefined || this.options.actOnGuard === false) return () => {}
    const activity = (): void => this.liveness.heard(peerId)
    const violation = (error: GuardViolation): void => {
      this.disconnectPeer(peerId, new TrysteroYjsError(`${error.summary}; peer disconnected`, {
        peerId, messageType: error.messageType, byteLength: error.byteLength, limit: error.limit, limitValue: error.limitValue, figure: error.figure, cause: error
      }))
    }
    guard.on('activity', activity)
    guard.on('violation', violation)
    return () => {
      guard.off('activity', activity)
      guard.off('violation', violation)
    }
  }

  /**
   * Checks a message against the peer's size and rate limits; a peer over one is disconnected.
   * `messages`: 0 for bytes a message makes us process beyond its own (they count as bytes only).
   */
  private withinRate (peerId: string, byteLength: number, messageType: string, messages = 1): boolean {
    const { maxMessageBytes } = this.limits
    if (messages > 0 && byteLength > maxMessageBytes) {
      this.disconnectPeer(peerId, new TrysteroYjsError('message over the size limit dropped; peer disconnected', {
        peerId, messageType, byteLength, limit: 'maxMessageBytes', limitValue: maxMessageBytes, figure: byteLength
      }))
      return false
    }
    const excess = this.rates.count(peerId, byteLength, messages)
    if (excess === null) return true
    this.disconnectPeer(peerId, new TrysteroYjsError('peer over its rate limit; disconnected', {
      peerId, messageType, byteLength, limit: excess.limit, limitValue: excess.value, figure: excess.figure
    }))
    return false
  }

  /**
   * Reports `error` and closes the peer's connection (in every room of this app: Trystero shares
   * one connection between them). Until Trystero reports it gone it stays listed, closed for
   * every channel and refused, so that its messages are dropped rather than starting over.
   */
  private disconnectPeer (peerId: string, error: TrysteroYjsError): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined || peer.disconnected) return
    peer.disconnected = true
    this.reportAll('error', error)
    this.gate.shut(peerId)
    this.liveness.unwatch(peerId)
    this.peers.setChannels(peerId, peer, new Set())
    const connection = this.room.getPeers()[peerId] as { close?: () => void } | undefined
    try {
      connection?.close?.()
    } catch (closeError) {
      this.reportAll('warning', new TrysteroYjsError('could not close a refused peer\'s connection', { peerId, cause: closeError }))
    }
  }

  /** One member's failure (an app listener throwing in a provider) must not cut the others off. */
  private notify (key: string, f: (member: ChannelMember) => void): void {
    notifyMember(this.members.get(key)?.member, f, 'handling a room event')
  }

  // --- room channel messages ---

  private receive (data: unknown, peerId: string): void {
    if (!(data instanceof Uint8Array)) {
      this.reportAll('warning', new TrysteroYjsError('non-binary room message ignored', { peerId, messageType: typeof data }))
      return
    }
    let message: RoomMessage | null
    try {
      message = decodeRoomMessage(data)
    } catch (error) {
      this.reportAll('warning', new TrysteroYjsError('malformed room message ignored', {
        peerId, messageType: roomMessageTypeName(data), byteLength: data.byteLength, cause: error
      }))
      return
    }
    if (message === null) {
      this.reportAll('warning', new TrysteroYjsError('unknown room message ignored', {
        peerId, messageType: roomMessageTypeName(data), byteLength: data.byteLength
      }))
      return
    }
    // Trystero holds messages that arrive before the action exists and hands them over when we
    // create it: a HELLO from a peer that has left since must not bring it back as a ghost.
    if (!(peerId in this.room.getPeers())) return
    this.liveness.heard(peerId)
    if (!this.peers.has(peerId)) {
      // A connected peer whose join we have not seen yet.
      this.addPeer(peerId, false)
    }
    if (!this.withinRate(peerId, data.byteLength, message.type)) return
    if (message.type === 'challenge' || message.type === 'proof') {
      this.gate.receive(peerId, message, data.byteLength)
      return
    }
    this.gate.hold(peerId, data.byteLength, message.type, () => this.receiveAdmitted(peerId, message, data.byteLength))
  }

  /** A room message from an admitted peer. */
  private receiveAdmitted (peerId: string, message: RoomMessage, byteLength: number): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined || peer.incompatible) return
    switch (message.type) {
      case 'hello': {
        if (message.version !== protocolVersion) {
          this.reportAll('warning', new TrysteroYjsError(
            `peer speaks trystero-yjs protocol ${message.version}, this is ${protocolVersion}: ignoring it`,
            { peerId, messageType: 'hello', byteLength }))
          peer.incompatible = true
          this.peers.setChannels(peerId, peer, new Set())
          return
        }
        peer.features = message.features
        peer.instance = message.instance ?? null
        if ((message.features & features.heartbeat) !== 0) this.liveness.watch(peerId)
        // A peer we knew that asks for our HELLO starts over with us (it took us for gone, or
        // its first channel just opened): its channels close and open again, so that each side
        // asks the other for what it missed. Once per heartbeat interval: an honest peer asks
        // again only after taking us for gone, and each answer (our HELLO, a step 1 per channel)
        // is thousands of times the 13 bytes of the request (PROTOCOL.md §2).
        const restart = message.replyRequested && this.answerAllowed(peer)
        if (restart && peer.channels !== null) this.peers.setChannels(peerId, peer, new Set())
        const stateVectors = new Map(message.channels.map((channel, i) => [channel, message.stateVectors?.[i]] as const))
        this.peers.setChannels(peerId, peer, new Set(message.channels), this.earlyStateVectors(peer, stateVectors))
        if (restart) this.sendHello(peerId, false)
        return
      }
      case 'open':
        this.peers.setChannels(peerId, peer, new Set([...(peer.channels ?? []), message.channel]), this.earlyStateVectors(peer, new Map([[message.channel, message.stateVector]])))
        return
      case 'close': {
        const channels = new Set(peer.channels ?? [])
        channels.delete(message.channel)
        this.peers.setChannels(peerId, peer, channels)
        return
      }
      case 'ping':
        // Answered on receipt, never from a timer: a background tab's timers are throttled.
        this.sendControl({ type: 'pong', seq: message.seq }, peerId)
        return
      case 'challenge':
      case 'proof':
      case 'pong':
    }
  }

  /** A watched peer fell silent: closed for every channel, until it is heard from again. */
  private silenced (peerId: string, silentMs: number): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined) return
    this.reportAll('warning', new TrysteroYjsError(`peer silent for ${silentMs} ms: taken for gone until it is heard from again`, { peerId, messageType: 'ping' }))
    this.peers.setChannels(peerId, peer, new Set())
  }

  /** A silent peer spoke again: start over with it as with a new peer (it may have missed anything). */
  private revived (peerId: string): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined || peer.incompatible) return
    this.peers.awaitHello(peerId, peer)
    this.sendHello(peerId, true)
  }

  /**
   * The state vectors a HELLO or OPEN carried, if both the peer and we set compactSync: they
   * count as its step 1 then (PROTOCOL.md §3.3); empty ones are channels without one.
   */
  private earlyStateVectors (peer: RemotePeer, stateVectors: Map<string, Uint8Array | null | undefined>): Map<string, Uint8Array> | undefined {
    if (!this.compact || (peer.features & features.compactSync) === 0) return undefined
    const early = new Map<string, Uint8Array>()
    for (const [channel, stateVector] of stateVectors) if (stateVector != null && stateVector.byteLength > 0) early.set(channel, stateVector)
    return early
  }

  /** Whether a HELLO's request for ours is answered: the first, then one per heartbeat interval. */
  private answerAllowed (peer: RemotePeer): boolean {
    const now = Date.now()
    if (peer.answeredAt !== null && now - peer.answeredAt < this.limits.heartbeatInterval) return false
    peer.answeredAt = now
    return true
  }

  private sendHello (peerId: string, replyRequested: boolean): void {
    const featureBits = features.heartbeat | (this.compact ? features.compactSync : 0) | (this.tabs !== null ? features.pageInstance : 0)
    const channels = [...this.members.keys()]
    const stateVectors = this.compact ? channels.map((key) => this.members.get(key)!.member.stateVector?.() ?? noStateVector) : null
    this.sendControl({ type: 'hello', version: protocolVersion, replyRequested, channels, features: featureBits, stateVectors, instance: this.instance }, peerId)
  }

  /** To every admitted peer: the others have not been told our channels yet. */
  private broadcast (message: RoomMessage): void {
    const targets = this.peers.ids().filter((peerId) => this.gate.state(peerId) === 'admitted')
    if (targets.length > 0) this.sendControl(message, targets)
  }

  private sendControl (message: RoomMessage, target: string | string[]): void {
    const bytes = encodeRoomMessage(message)
    this.control.send(bytes, { target }).catch((error: unknown) => {
      this.reportAll('error', new TrysteroYjsError('room message not sent', {
        peerId: String(target), messageType: message.type, byteLength: bytes.byteLength, cause: error
      }))
    })
  }

  private reportAll (kind: 'error' | 'warning', error: TrysteroYjsError): void {
    for (const { member } of this.members.values()) member.report(kind, error)
  }
}

const sameCredentials = (a: RoomCredentials | null, b: RoomCredentials | null): boolean =>
  a === b || (a !== null && b !== null && a.role === b.role && a.keys.viewKey === b.keys.viewKey)

/** What HELLO and OPEN carry for a channel that is not a document. */
const noStateVector = new Uint8Array(0)

const byteLengthOf = (data: unknown): number => data instanceof Uint8Array ? data.byteLength : 0
