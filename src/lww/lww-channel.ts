/**
 * What the synced LWW types share: a channel on a Trystero room through the room hub (so they
 * can share a room with Yjs documents), the peers that have it open, validated receiving, and
 * byte counts for the comparison with Y.Map.
 */
import * as random from 'lib0/random'
import { TrysteroYjsError } from '../errors.js'
import { ReportingObservable, type ReportingEvents } from '../reporting-observable.js'
import { RoomHub, type ChannelHandle, type ChannelMember } from '../room-hub.js'
import type { TrysteroRoom } from '../room-types.js'
import { noTraffic, type Traffic } from '../traffic.js'
import type { Clock } from './clocks.js'
import { decodeLwwMessage, encodeLwwMessage, type LwwMessageKind } from './lww-wire.js'

/** Options of the synced LWW types. */
export interface SyncedLwwOptions {
  /** This replica's id, the tie-breaker of equal stamps. Default: a random UUID. */
  writerId?: string
  /** Default: a `HybridLogicalClock`. */
  clock?: Clock
  /** See TrysteroProvider's option of the same name. Default 5,000 ms. */
  peerHelloTimeout?: number
}

/** The `change` event of the synced LWW types. */
export interface LwwChangeEvent {
  /** The keys that changed (a register's change has none). */
  keys: string[]
  /** `'local'` for a write here, else the Trystero id of the peer whose message changed it. */
  origin: string
}

/** Events of the synced LWW types (lib0 `ObservableV2`). */
export interface SyncedLwwEvents extends ReportingEvents {
  /** The value changed, by a local write or by a peer's message. */
  change: (event: LwwChangeEvent) => void
  /** Peers that have this register or map open. */
  peers: (event: { added: string[], removed: string[], peers: string[] }) => void
}

export const newWriterId = (): string => random.uuidv4()

export abstract class LwwChannel extends ReportingObservable<SyncedLwwEvents> {
  readonly room: TrysteroRoom
  readonly name: string
  readonly traffic: Traffic = noTraffic()
  private readonly remotePeers = new Set<string>()
  private channel: ChannelHandle | null

  protected constructor (room: TrysteroRoom, name: string, channelKey: string, options: SyncedLwwOptions) {
    super()
    this.room = room
    this.name = name
    const hub = RoomHub.for(room, { peerHelloTimeout: options.peerHelloTimeout ?? 5000 })
    this.channel = hub.attach(channelKey, this.member)
    // Peers that had it open before us get our state as they appear; these already have.
    queueMicrotask(() => { for (const peerId of this.channel?.openPeers() ?? []) this.member.peerOpened(peerId) })
  }

  get peers (): string[] {
    return [...this.remotePeers]
  }

  /** Closes the channel; the room stays joined. */
  override destroy (): void {
    this.channel?.detach()
    this.channel = null
    this.remotePeers.clear()
    super.destroy()
  }

  /** The whole state, for a joining peer. */
  protected abstract fullState (): unknown
  /** Merges a received state (throws if invalid): did anything change, and which keys. */
  protected abstract mergeState (state: unknown): { changed: boolean, keys: string[] }

  protected broadcast (kind: LwwMessageKind, state: unknown): void {
    this.send(kind, state, [...this.remotePeers])
  }

  protected changed (keys: string[], origin: string): void {
    this.emit('change', [{ keys, origin }])
  }

  private send (kind: LwwMessageKind, state: unknown, targets: string[]): void {
    if (this.channel === null || targets.length === 0) return
    const bytes = encodeLwwMessage(kind, state)
    this.traffic.messagesSent += targets.length
    this.traffic.bytesSent += bytes.byteLength * targets.length
    this.channel.send(bytes, targets)
  }

  private readonly member: ChannelMember = {
    peerOpened: (peerId) => {
      if (this.channel === null || this.remotePeers.has(peerId)) return
      this.remotePeers.add(peerId)
      this.send('state', this.fullState(), [peerId])
      this.emit('peers', [{ added: [peerId], removed: [], peers: this.peers }])
    },
    peerClosed: (peerId) => {
      if (!this.remotePeers.delete(peerId)) return
      this.emit('peers', [{ added: [], removed: [peerId], peers: this.peers }])
    },
    pendingChanged: () => {},
    message: (data, peerId) => {
      if (this.channel === null) return
      if (!(data instanceof Uint8Array)) {
        this.reportError(new TrysteroYjsError('non-binary LWW message ignored', { peerId, messageType: typeof data, docName: this.name }))
        return
      }
      this.traffic.messagesReceived++
      this.traffic.bytesReceived += data.byteLength
      let merged: { changed: boolean, keys: string[] }
      let kind = 'lww'
      try {
        const message = decodeLwwMessage(data)
        kind = `lww-${message.kind}`
        merged = this.mergeState(message.state)
      } catch (error) {
        this.reportError(new TrysteroYjsError('invalid LWW message rejected', { peerId, messageType: kind, byteLength: data.byteLength, docName: this.name, cause: error }))
        return
      }
      if (merged.changed) this.changed(merged.keys, peerId)
    },
    roomLeft: () => {
      this.channel = null
      this.remotePeers.clear()
    },
    report: this.report
  }
}
