/**
 * One document on one joined room (PROTOCOL.md §3): the peers that have it open, their sync
 * state, and the frames exchanged with them. A session lives from join to disconnect; the
 * provider around it keeps what outlives a connection (status, events, our awareness state).
 */
import * as Y from 'yjs'
import { TrysteroYjsError } from '../errors.js'
import { decodeFrame, encodeFrame, type DocMessage } from '../protocol/doc-messages.js'
import type { RoomRole } from '../admission/room-keys.js'
import type { ChannelHandle, ChannelMember } from '../room-hub.js'
import type { TrafficLedger } from '../traffic.js'
import type { AwarenessSync } from './awareness-sync.js'
import { AuthorshipGuard, type HeldUpdate, type Suspect } from './authorship.js'
import { applyReadUpdate, readUpdate } from './remote-update.js'
import { UpdateOutbox } from './update-outbox.js'

/** What a session tells its provider. */
export interface SessionHost {
  readonly doc: Y.Doc
  readonly docName: string
  readonly awarenessSync: AwarenessSync
  readonly traffic: TrafficLedger
  readonly maxMessageBytes: number
  /** Peers opened or closed the document. */
  peersChanged: (added: string[], removed: string[]) => void
  /** Something `synced` depends on changed. */
  syncInputsChanged: () => void
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

interface RemotePeer {
  /** A viewer's updates are refused, so we neither ask it for them nor wait for it. */
  role: RoomRole
  /** A step 2 from this peer was applied since we sent it our step 1. */
  answered: boolean
}

export class DocSession {
  private channel: ChannelHandle | null = null
  private readonly peers = new Map<string, RemotePeer>()
  private readonly outbox: UpdateOutbox
  private readonly authorship: AuthorshipGuard
  private warnedReadOnly = false

  /** `origin` marks what the session applies (the provider), so that it is never sent back out. */
  constructor (private readonly host: SessionHost, private readonly origin: unknown) {
    this.outbox = new UpdateOutbox(host.doc, origin, (update) => this.broadcast([{ type: 'sync-update', update }]))
    this.authorship = new AuthorshipGuard({
      doc: this.host.doc,
      ownerOf: (client) => this.host.awarenessSync.ownerOf(client),
      isPresent: (peerId) => this.peers.has(peerId),
      release: (held) => this.applyChecked(held),
      refuse: (held: HeldUpdate, suspect: Suspect) => {
        this.host.report('error', new TrysteroYjsError(
          `update refused: it carries edits of client ${suspect.client}, which belongs to ${suspect.owner === null ? 'us' : `peer ${suspect.owner}`}, beyond what that client showed${suspect.owner === null ? '' : ' (waited for it)'}`,
          { peerId: held.peerId, messageType: held.messageType, byteLength: held.byteLength, docName: this.host.docName }))
        // A refused step 2 leaves the peer unanswered: ask again, it may have been a race after all.
        if (held.messageType === 'sync-step2' && this.peers.get(held.peerId)?.answered === false) {
          this.send([{ type: 'sync-step1', stateVector: Y.encodeStateVector(this.host.doc) }], [held.peerId])
        }
      }
    })
  }

  /** The hub's view of this session; attach it, then `bind()` the handle the hub returns. */
  readonly member: Omit<ChannelMember, 'roomLeft'> = {
    peerOpened: (peerId) => this.peerOpened(peerId),
    peerClosed: (peerId) => this.peerClosed(peerId),
    pendingChanged: () => this.host.syncInputsChanged(),
    message: (data, peerId) => this.receiveFrame(data, peerId),
    report: (kind, error) => this.host.report(kind, error)
  }

  /** The hub's handle, once `attach()` returned it. */
  bind (channel: ChannelHandle): void {
    this.channel = channel
    if (channel.ownRole === 'viewer') this.host.doc.on('update', this.onReadOnlyUpdate)
  }

  /** Starts syncing with the peers that had the document open before we attached. */
  start (): void {
    for (const peerId of this.channel?.openPeers() ?? []) this.peerOpened(peerId)
  }

  get peerIds (): string[] {
    return [...this.peers.keys()]
  }

  /** No room peer is pending and every writer with the document answered (PROTOCOL.md §3.4). */
  get synced (): boolean {
    if (this.channel === null || this.channel.pendingPeerCount() > 0) return false
    for (const peer of this.peers.values()) if (peer.role === 'writer' && !peer.answered) return false
    return true
  }

  /** Sends step 1 to every writer with the document open; their step 2 fills any gap. */
  resync (): void {
    this.send([{ type: 'sync-step1', stateVector: Y.encodeStateVector(this.host.doc) }], this.writers())
  }

  sendAwareness (update: Uint8Array): void {
    this.broadcast([{ type: 'awareness', update }])
  }

  /** Sends this tick's edits now rather than at the end of the tick. */
  flushUpdates (): void {
    this.outbox.flush()
  }

  /** Sends this tick's edits, then stops: the document is closed on the room, peers forgotten. */
  close (): void {
    const channel = this.channel
    if (channel === null) return
    this.outbox.flush()
    this.abandon()
    channel.detach()
  }

  /** The room went away under us: nothing can be sent any more. */
  abandon (): void {
    this.channel = null
    this.host.doc.off('update', this.onReadOnlyUpdate)
    this.forgetAllPeers()
  }

  private writers (): string[] {
    return [...this.peers].filter(([, peer]) => peer.role === 'writer').map(([peerId]) => peerId)
  }

  private peerOpened (peerId: string): void {
    const channel = this.channel
    if (channel === null || this.peers.has(peerId)) return
    const role = channel.roleOf(peerId) ?? 'writer'
    this.peers.set(peerId, { role, answered: false })
    // A viewer's edits would be refused everywhere: it has nothing to send.
    this.outbox.setListening(channel.ownRole === 'writer')
    const messages: DocMessage[] = role === 'writer' ? [{ type: 'sync-step1', stateVector: Y.encodeStateVector(this.host.doc) }] : []
    const awareness = this.host.awarenessSync.localUpdate()
    if (awareness !== null) messages.push({ type: 'awareness', update: awareness })
    if (messages.length > 0) this.send(messages, [peerId])
    this.host.peersChanged([peerId], [])
    this.host.syncInputsChanged()
  }

  private peerClosed (peerId: string): void {
    this.host.awarenessSync.forgetPeer(peerId)
    if (!this.peers.delete(peerId)) return
    this.authorship.peerGone(peerId)
    if (this.peers.size === 0) this.outbox.setListening(false)
    this.host.peersChanged([], [peerId])
    this.host.syncInputsChanged()
  }

  private forgetAllPeers (): void {
    this.authorship.clear()
    const removed = [...this.peers.keys()]
    this.peers.clear()
    this.outbox.setListening(false)
    this.host.awarenessSync.forgetAll()
    if (removed.length > 0) this.host.peersChanged([], removed)
  }

  // --- receiving ---

  private receiveFrame (data: unknown, peerId: string): void {
    const channel = this.channel
    if (channel === null) return
    const { docName } = this.host
    if (!(data instanceof Uint8Array)) {
      this.host.report('error', new TrysteroYjsError('non-binary message ignored', { peerId, messageType: typeof data, docName }))
      return
    }
    const byteLength = data.byteLength
    this.host.traffic.received(peerId, byteLength)
    if (byteLength > this.host.maxMessageBytes) {
      this.host.report('error', new TrysteroYjsError(`message over maxMessageBytes (${this.host.maxMessageBytes}) dropped`, {
        peerId, messageType: 'frame', byteLength, docName
      }))
      return
    }
    const { messages, failure } = decodeFrame(data)
    for (const message of messages) {
      try {
        this.receiveMessage(channel, message, peerId, byteLength)
      } catch (error) {
        // Thrown by an observer of the document or awareness (app code), not by our decoding.
        this.host.report('error', new TrysteroYjsError('handling a message failed', { peerId, messageType: message.type, byteLength, docName, cause: error }))
      }
    }
    if (failure !== null) {
      this.host.report('error', new TrysteroYjsError(`malformed message dropped: ${failure.cause}`, {
        peerId, messageType: failure.messageType, byteLength, docName
      }))
    }
  }

  private receiveMessage (channel: ChannelHandle, message: DocMessage, peerId: string, byteLength: number): void {
    const { doc, docName } = this.host
    switch (message.type) {
      case 'sync-step1': {
        let stateVector: Map<number, number>
        try {
          stateVector = Y.decodeStateVector(message.stateVector)
        } catch (error) {
          this.host.report('error', new TrysteroYjsError('malformed state vector', { peerId, messageType: message.type, byteLength, docName, cause: error }))
          return
        }
        if (this.peers.has(peerId)) for (const [client, clock] of stateVector) this.authorship.show(peerId, client, clock)
        // A viewer's answer would be refused; a step 1 Trystero held for us while we had no
        // handler may come from a peer gone since.
        if (channel.ownRole === 'viewer' || !channel.isAdmitted(peerId)) return
        this.send([{ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc, message.stateVector) }], [peerId])
        return
      }
      case 'sync-step2':
      case 'sync-update':
        if (this.mayWrite(channel, peerId, message.type, byteLength)) this.apply(message.update, peerId, message.type, byteLength)
        return
      case 'awareness':
        // Presence matters for peers that have the document open; a late message from one that
        // closed it must not bring its cursor back, with nobody left to remove it.
        this.host.awarenessSync.receive(message.update, peerId, byteLength, this.peers.has(peerId))
    }
  }

  /** Viewers are admitted to read: whatever document update one sends is refused, and reported. */
  private mayWrite (channel: ChannelHandle, peerId: string, messageType: string, byteLength: number): boolean {
    if (channel.roleOf(peerId) !== 'viewer') return true
    this.host.report('error', new TrysteroYjsError('document update from a viewer refused: it holds the view key only', {
      peerId, messageType, byteLength, docName: this.host.docName
    }))
    return false
  }

  /** Said once: a read-only provider's edits stay here, and a reader should know why. */
  private readonly onReadOnlyUpdate = (_update: Uint8Array, origin: unknown): void => {
    if (origin === this.origin || this.warnedReadOnly) return
    this.warnedReadOnly = true
    this.host.report('warning', new TrysteroYjsError('this provider has the view key only: local edits are not sent (peers would refuse them)', {
      docName: this.host.docName
    }))
  }

  /**
   * A peer's update, whole or not at all: validated, then checked for edits under a client id
   * the peer does not speak for (which may wait for that client's owner), then applied.
   */
  private apply (update: Uint8Array, peerId: string, messageType: string, byteLength: number): void {
    const reading = readUpdate(update)
    if (!reading.ok) {
      this.host.report('error', new TrysteroYjsError('malformed update rejected', { peerId, messageType, byteLength, docName: this.host.docName, cause: reading.cause }))
      return
    }
    const candidate = { update, ranges: reading.ranges, peerId, messageType, byteLength }
    if (this.authorship.check(candidate) === 'apply') this.applyChecked(candidate)
  }

  private applyChecked ({ update, ranges, peerId, messageType, byteLength }: Omit<HeldUpdate, 'suspects'>): void {
    const failure = applyReadUpdate(this.host.doc, update, this.origin)
    if (failure !== null) {
      this.host.report('error', new TrysteroYjsError(failure.summary, { peerId, messageType, byteLength, docName: this.host.docName, cause: failure.cause }))
      if (!failure.applied) return
    }
    if (!this.peers.has(peerId)) return
    for (const [client, { to }] of ranges) this.authorship.show(peerId, client, to)
    const peer = this.peers.get(peerId)
    if (messageType === 'sync-step2' && peer !== undefined && !peer.answered) {
      peer.answered = true
      this.host.syncInputsChanged()
    }
  }



  // --- sending ---

  private broadcast (messages: DocMessage[]): void {
    this.send(messages, [...this.peers.keys()])
  }

  private send (messages: DocMessage[], targets: string[]): void {
    const channel = this.channel
    if (channel === null || targets.length === 0) return
    const frame = encodeFrame(messages)
    for (const peerId of targets) this.host.traffic.sent(peerId, frame.byteLength)
    channel.send(frame, targets)
  }
}

