/**
 * One document on one joined room (PROTOCOL.md §3): the peers that have it open, the frames
 * exchanged with them, and who must answer before we are synced. A session lives from join to
 * disconnect; the provider around it keeps what outlives a connection (status, events, our
 * awareness state). A peer's update goes on to `UpdateIntake`, its step 1 to `Step2Answers`.
 * Frames go out through `CompactSender` and come in through `CompactReceiver`, which keep each
 * peer's messages in order around compact sync's compression (§3.7).
 */
import * as Y from 'yjs'
import { TrysteroYjsError } from '../errors.js'
import type { ProviderLimits } from '../limits.js'
import { CompactReceiver, type IncomingMessage } from '../compact/compact-receiver.js'
import { CompactSender, syncMessage } from '../compact/compact-sender.js'
import { decodeFrame, type DocMessage } from '../protocol/doc-messages.js'
import type { ChannelHandle, ChannelMember } from '../room/channel-contract.js'
import type { TrafficLedger } from '../traffic.js'
import type { AwarenessSync } from './awareness-sync.js'
import { encodeStateAsUpdateWithoutPending } from '../sync/pending-quarantine.js'
import { PeerSyncTable } from './peer-sync.js'
import { StateSnapshot } from './state-snapshot.js'
import { Step2Answers } from './step2-answers.js'
import { UpdateIntake } from './update-intake.js'
import { UpdateOutbox } from './update-outbox.js'

/** What a session tells its provider. */
export interface SessionHost {
  readonly doc: Y.Doc
  readonly docName: string
  readonly awarenessSync: AwarenessSync
  readonly traffic: TrafficLedger
  readonly limits: Readonly<ProviderLimits>
  /** The provider's `resyncInterval` (0: off): a step 1 to every peer that often while connected. */
  readonly resyncInterval: number
  /** The provider's `stateSnapshot`: keep the whole state encoded for new peers (src/provider/state-snapshot.ts). */
  readonly stateSnapshot: boolean
  /** Peers opened or closed the document. */
  peersChanged: (added: string[], removed: string[]) => void
  /** Something `synced` depends on changed. */
  syncInputsChanged: () => void
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

export class DocSession {
  private channel: ChannelHandle | null = null
  private readonly peers: PeerSyncTable
  private readonly outbox: UpdateOutbox
  private readonly intake: UpdateIntake
  private readonly answers: Step2Answers
  private readonly sender: CompactSender
  private readonly receiver: CompactReceiver
  private snapshot: StateSnapshot | null = null
  /** Per peer, the state vector of its HELLO or OPEN we answered: its step 1 with the same is answered already. */
  private readonly earlyAnswered = new Map<string, Uint8Array>()
  private warnedReadOnly = false
  private resyncTimer: ReturnType<typeof setInterval> | null = null

  /** `origin` marks what the session applies (the provider), so that it is never sent back out. */
  constructor (private readonly host: SessionHost, private readonly origin: unknown) {
    const { doc, docName } = host
    this.sender = new CompactSender({
      transmit: (frame, targets) => this.transmit(frame, targets),
      compactPeer: (peerId) => this.channel?.compactSync(peerId) === true,
      failed: (peerId, error) => host.report('error', new TrysteroYjsError('sending failed', { peerId, docName, cause: error }))
    })
    this.receiver = new CompactReceiver({
      docName,
      accepting: () => this.channel?.acceptsCompact === true,
      maxMessageBytes: host.limits.maxMessageBytes,
      charge: (peerId, bytes, messageType, messages) => this.channel?.charge(peerId, bytes, messageType, messages) === true,
      disconnect: (peerId, error) => this.channel?.disconnect(peerId, error),
      admitted: (peerId) => this.channel?.isAdmitted(peerId) === true,
      report: host.report
    })
    this.outbox = new UpdateOutbox(doc, origin, (update) => { void this.sender.sendUpdate(update, this.peers.ids) })
    this.peers = new PeerSyncTable(host.limits.syncTimeout, {
      overdue: (peerId, silentMs) => {
        host.report('warning', new TrysteroYjsError(`peer left our step 1 unanswered for ${silentMs} ms: no longer waited for, asked again`, {
          peerId, messageType: 'sync-step1', docName
        }))
        host.syncInputsChanged()
        this.askForUpdates([peerId])
      }
    })
    this.intake = new UpdateIntake({
      doc,
      docName,
      origin,
      limits: host.limits,
      disconnect: (peerId, error) => this.channel?.disconnect(peerId, error),
      charge: (peerId, bytes, messageType) => this.channel?.charge(peerId, bytes, messageType) === true,
      roleOf: (peerId) => this.channel?.roleOf(peerId) ?? null,
      isPresent: (peerId) => this.peers.has(peerId),
      ownerOf: (client) => host.awarenessSync.ownerOf(client),
      applied: (peerId, messageType) => {
        const peer = this.peers.get(peerId)
        if (messageType !== 'sync-step2' || peer === undefined || peer.answered) return
        peer.answered = true
        host.syncInputsChanged()
      },
      // It may have raced the owner's own update after all: ask once more.
      step2Refused: (peerId) => this.askForUpdates([peerId]),
      report: host.report
    })
    this.answers = new Step2Answers({
      // Never another peer's unresolvable leftovers: only what this document integrated.
      answer: async (peerId, stateVector) => {
        if (this.channel === null) return
        try {
          const whole = this.snapshot !== null && isEmptyStateVector(stateVector) ? this.snapshot.answerFresh(this.sender.formatFor(peerId)) : null
          // A frame each, in order (PROTOCOL.md §3.3): none bigger than a step 2 of the whole state.
          if (whole !== null) await Promise.all(whole.map((message) => this.sender.sendMessages(message, [peerId])))
          // A fresh peer answering the holder: nothing to encode (a V2 this small goes as V1
          // anyway), and Yjs's encoders are not woken on the path of that peer's first sync.
          else if (doc.store.clients.size === 0) await this.sender.sendMessages({ type: 'sync-step2', update: emptyUpdate }, [peerId])
          else await this.sender.sendStep2(peerId, (format) => encodeStateAsUpdateWithoutPending(doc, stateVector, format))
        } catch (error) {
          // Yjs could not encode the document (e.g. a value V1 cannot write): said, and the next step 1 is tried again.
          host.report('error', new TrysteroYjsError('answering a step 1 failed: the step 2 could not be encoded', { peerId, messageType: 'sync-step2', docName, cause: error }))
        }
      }
    })
  }

  /** The hub's view of this session; attach it, then `bind()` the handle the hub returns. */
  readonly member: Omit<ChannelMember, 'roomLeft'> = {
    peerOpened: (peerId, stateVector) => this.peerOpened(peerId, stateVector),
    stateVector: () => Y.encodeStateVector(this.host.doc),
    peerClosed: (peerId) => this.peerClosed(peerId),
    pendingChanged: () => this.host.syncInputsChanged(),
    message: (data, peerId) => this.receiveFrame(data, peerId),
    progress: (peerId) => this.peers.heardFrom(peerId),
    report: (kind, error) => this.host.report(kind, error)
  }

  /** The hub's handle, once `attach()` returned it. */
  bind (channel: ChannelHandle): void {
    this.channel = channel
    if (this.host.stateSnapshot && channel.ownRole === 'writer') {
      const { doc } = this.host
      this.snapshot = new StateSnapshot({
        doc,
        format: channel.acceptsCompact ? 'v2' : 'v1',
        encode: (stateVector, format) => encodeStateAsUpdateWithoutPending(doc, stateVector, format),
        message: syncMessage
      })
      this.snapshot.activate()
    }
    if (channel.ownRole === 'viewer') this.host.doc.on('afterTransaction', this.onReadOnlyUpdate)
  }

  /** Starts syncing with the peers that had the document open before we attached. */
  start (): void {
    for (const peerId of this.channel?.openPeers() ?? []) this.peerOpened(peerId)
    if (this.host.resyncInterval > 0) this.resyncTimer = setInterval(() => this.resync(), this.host.resyncInterval)
  }

  get peerIds (): string[] {
    return this.peers.ids
  }

  /** No room peer is pending and every writer with the document answered (PROTOCOL.md §3.4). */
  get synced (): boolean {
    return this.channel !== null && this.channel.pendingPeerCount() === 0 && this.peers.allAnswered()
  }

  /** Sends step 1 to every writer with the document open; their step 2 fills any gap. */
  resync (): void {
    this.askForUpdates(this.peers.writers())
  }

  sendAwareness (update: Uint8Array): void {
    void this.send([{ type: 'awareness', update }], this.peers.ids)
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
    if (this.resyncTimer !== null) clearInterval(this.resyncTimer)
    this.snapshot?.deactivate()
    this.snapshot = null
    this.host.doc.off('afterTransaction', this.onReadOnlyUpdate)
    this.intake.clear()
    const removed = this.peers.ids
    this.peers.clear()
    this.outbox.setListening(false)
    this.host.awarenessSync.forgetAll()
    if (removed.length > 0) this.host.peersChanged([], removed)
  }

  /** `stateVector`: what its HELLO or OPEN carried (compact sync): its step 1, answered now. */
  private peerOpened (peerId: string, stateVector?: Uint8Array): void {
    const channel = this.channel
    if (channel === null || this.peers.has(peerId)) return
    const role = channel.roleOf(peerId) ?? 'writer'
    this.peers.add(peerId, role)
    // A viewer's edits would be refused everywhere: it has nothing to send.
    this.outbox.setListening(channel.ownRole === 'writer')
    const messages: DocMessage[] = role === 'writer' ? [this.step1()] : []
    const awareness = this.host.awarenessSync.localUpdate()
    if (awareness !== null) messages.push({ type: 'awareness', update: awareness })
    if (messages.length > 0) void this.send(messages, [peerId])
    if (stateVector !== undefined && this.receiveStep1(channel, stateVector, peerId, 'hello state vector', stateVector.byteLength)) {
      this.earlyAnswered.set(peerId, stateVector)
    }
    this.host.peersChanged([peerId], [])
    this.host.syncInputsChanged()
  }

  private peerClosed (peerId: string): void {
    this.receiver.peerClosed(peerId, this.channel?.refused(peerId) === true)
    this.host.awarenessSync.forgetPeer(peerId)
    this.earlyAnswered.delete(peerId)
    if (!this.peers.delete(peerId)) return
    this.intake.peerGone(peerId)
    // Still admitted: it closed the document and may reopen it on the same connection.
    this.answers.peerGone(peerId, this.channel?.isAdmitted(peerId) !== true)
    if (this.peers.size === 0) this.outbox.setListening(false)
    this.host.peersChanged([], [peerId])
    this.host.syncInputsChanged()
  }

  private step1 (): DocMessage {
    return { type: 'sync-step1', stateVector: Y.encodeStateVector(this.host.doc) }
  }

  private askForUpdates (peerIds: string[]): void {
    for (const peerId of peerIds) this.peers.asked(peerId)
    void this.send([this.step1()], peerIds)
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
    const { messages, failure } = decodeFrame(data)
    // At once, unless an earlier compact message of this peer's is still being inflated.
    this.receiver.deliver(peerId, messages, byteLength, (message) => {
      if (this.channel !== channel) return
      try {
        this.receiveMessage(channel, message, peerId, byteLength)
      } catch (error) {
        // Thrown by an observer of the document or awareness (app code), not by our decoding.
        this.host.report('error', new TrysteroYjsError('handling a message failed', { peerId, messageType: message.type, byteLength, docName, cause: error }))
      }
    })
    if (failure !== null) {
      this.host.report('error', new TrysteroYjsError(`malformed message dropped: ${failure.cause}`, {
        peerId, messageType: failure.messageType, byteLength, docName
      }))
    }
  }

  private receiveMessage (channel: ChannelHandle, message: IncomingMessage, peerId: string, byteLength: number): void {
    switch (message.type) {
      case 'sync-step1': {
        // The step 1 that repeats its HELLO's state vector: that answer is on its way already.
        const early = this.earlyAnswered.get(peerId)
        this.earlyAnswered.delete(peerId)
        if (early !== undefined && sameBytes(early, message.stateVector)) return
        this.receiveStep1(channel, message.stateVector, peerId, message.type, byteLength)
        return
      }
      case 'sync-step2':
      case 'sync-update':
        this.intake.receive(message.update, peerId, message.type, byteLength, 'format' in message ? message.format : 'v1')
        return
      case 'awareness':
        // Presence matters for peers that have the document open; a late message from one that
        // closed it must not bring its cursor back, with nobody left to remove it.
        this.host.awarenessSync.receive(message.update, peerId, byteLength, this.peers.has(peerId))
    }
  }

  /** Answers a peer's state vector with a step 2; `false` if it is not answered (malformed, or not ours to answer). */
  private receiveStep1 (channel: ChannelHandle, encoded: Uint8Array, peerId: string, messageType: string, byteLength: number): boolean {
    let stateVector: Map<number, number>
    try {
      stateVector = Y.decodeStateVector(encoded)
    } catch (error) {
      this.host.report('error', new TrysteroYjsError('malformed state vector', { peerId, messageType, byteLength, docName: this.host.docName, cause: error }))
      return false
    }
    if (this.peers.has(peerId)) this.intake.shown(peerId, stateVector)
    // A viewer's answer would be refused; a step 1 Trystero held for us while we had no
    // handler may come from a peer gone since.
    if (channel.ownRole === 'viewer' || !channel.isAdmitted(peerId)) return false
    this.answers.request(peerId, encoded)
    return true
  }

  /**
   * Said once: a read-only provider's edits stay here, and a reader should know why. (Not an
   * `update` listener: that would make Yjs encode every transaction for it.)
   */
  private readonly onReadOnlyUpdate = (transaction: Y.Transaction): void => {
    if (transaction.origin === this.origin || this.warnedReadOnly) return
    if (transaction.changed.size === 0 && transaction.deleteSet.clients.size === 0) return
    this.warnedReadOnly = true
    this.host.report('warning', new TrysteroYjsError('this provider has the view key only: local edits are not sent (peers would refuse them)', {
      docName: this.host.docName
    }))
  }

  // --- sending ---

  /** Resolves once the frame is handed to every target's data channel (after what each has in flight). */
  private async send (messages: DocMessage[], targets: string[]): Promise<void> {
    if (this.channel === null || targets.length === 0) return
    await this.sender.send(messages, targets)
  }

  private async transmit (frame: Uint8Array, targets: string[]): Promise<void> {
    const channel = this.channel
    if (channel === null) return
    for (const peerId of targets) this.host.traffic.sent(peerId, frame.byteLength)
    await channel.send(frame, targets)
  }
}

/** Yjs V1's update of a document with nothing in it: no client's structs, an empty delete set. */
const emptyUpdate = new Uint8Array([0, 0])

/** A state vector with no client in it: a peer that has nothing of the document (varUint 0). */
const isEmptyStateVector = (encoded: Uint8Array): boolean => encoded.byteLength === 1 && encoded[0] === 0

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
