/**
 * How a provider gets into its room: the room keys of a private room (derived once: PBKDF2 is
 * slow on purpose), the room itself (joined through a shared lease, or the one the app gave),
 * and the room channel (`RoomHub`) its document is attached to. The provider keeps the lifecycle;
 * this module knows the order in which these must happen.
 */
import { roomCredentials, type RoomCredentials } from '../admission/room-keys.js'
import { docChannelKey } from '../channel-key.js'
import { warmUpCompression } from '../compact/deflate-raw.js'
import { TrysteroYjsError } from '../errors.js'
import { RoomHub, type ChannelMember, type ChannelHandle } from '../room-hub.js'
import { SignalingMonitor, defaultStrategyRelaySockets, type SignalingMonitorOptions } from '../signaling-status.js'
import { acquireRoom, type RoomLease } from '../room-lease.js'
import type { TrysteroRoom } from '../room-types.js'
import { joinConfig, loadDefaultJoinRoom, tabChannelOf, type ResolvedOptions } from './options.js'

/** A room entered: release the lease (if the provider joined it) when done with it. */
export interface EnteredRoom {
  room: TrysteroRoom
  lease: RoomLease | null
  credentials: RoomCredentials | null
}

export class RoomAccess {
  /** The room id given to the provider, or `null` with a room object. */
  readonly roomId: string | null
  private readonly fixedRoom: TrysteroRoom | null
  private credentials: Promise<RoomCredentials | null> | null = null
  /** The app left the room it gave us: it cannot be used again. */
  private fixedRoomLeft = false
  /** The room's settings that differ from ours were reported (the first attach that found them). */
  private warnedIgnored = false

  constructor (
    roomOrId: string | TrysteroRoom,
    private readonly options: ResolvedOptions,
    /** Whether the app named its app id (a room object's keys need the one it was joined with). */
    appIdGiven: boolean
  ) {
    if (typeof roomOrId === 'string' ? roomOrId.length === 0 : typeof roomOrId?.makeAction !== 'function') {
      throw new TrysteroYjsError('the second argument must be a non-empty room id or a Trystero room')
    }
    this.roomId = typeof roomOrId === 'string' ? roomOrId : null
    const fixedRoom = this.fixedRoom = typeof roomOrId === 'string' ? null : roomOrId
    if (fixedRoom !== null && options.secret !== null && 'password' in options.secret && (options.own.roomId === undefined || !appIdGiven)) {
      throw new TrysteroYjsError('a password with a room object needs options.appId and options.roomId, those the room was joined with: the room keys are bound to them')
    }
  }

  /** Joins the room (or takes the given one). Throws with context when it cannot. */
  async enter (): Promise<EnteredRoom> {
    if (this.fixedRoomLeft) throw new TrysteroYjsError('the room given to this provider was left by the app; create a provider for a new room')
    // The first compression of a process costs tens of ms: pay it now, not on a peer's step 2.
    if (this.options.own.compactSync) void warmUpCompression()
    const credentials = await this.roomCredentials()
    if (this.fixedRoom !== null) return { room: this.fixedRoom, lease: null, credentials }
    const joinRoom = this.options.own.joinRoom ?? await loadDefaultJoinRoom()
    const lease = await acquireRoom(joinRoom, joinConfig(this.options, credentials), this.roomId!, this.options.own.joinCallbacks)
    return { room: lease.room, lease, credentials }
  }

  /** Attaches a document to the room channel shared by every provider on this room (PROTOCOL.md §3.1). */
  attach ({ room, credentials }: EnteredRoom, docName: string, member: ChannelMember): ChannelHandle {
    const claimScope = this.fixedRoom === null ? { appId: this.options.strategyConfig.appId, roomId: this.roomId! } : undefined
    const { peerHelloTimeout, connectionGuard, compactSync } = this.options.own
    const broadcastChannel = tabChannelOf(this.options, this.roomId)
    // Turned off here (null), or on and named (a string); on but without a room id to name it by
    // (a room object without roomId), this provider asks nothing of the room's tab channel.
    const tabsAsked = !this.options.own.broadcastChannel ? null : broadcastChannel ?? undefined
    const hub = RoomHub.for(room, { peerHelloTimeout, credentials, limits: this.options.limits, claimScope, actOnGuard: connectionGuard, compactSync, broadcastChannel })
    const handle = hub.attach(docChannelKey(docName), member)
    const ignored = hub.ignoredSettings({ compactSync, broadcastChannel: tabsAsked })
    // Once per provider, not at every reconnect.
    if (ignored.length > 0 && !this.warnedIgnored) {
      this.warnedIgnored = true
      member.report('warning', new TrysteroYjsError(`this room was opened first by a provider with ${ignored.join(', ')}: per room, the first provider's setting applies, to this one too`, { docName }))
    }
    return handle
  }

  /**
   * Watches the relays this provider's joins go through: the app's `getRelaySockets`, else the
   * default strategy's own (when we load it), else nothing to watch (a room the app joined).
   */
  signalingMonitor (handlers: Pick<SignalingMonitorOptions, 'onChange' | 'onUnreachable'>): SignalingMonitor {
    const { getRelaySockets, joinRoom } = this.options.own
    return new SignalingMonitor({
      getRelaySockets: getRelaySockets ?? (joinRoom === undefined && this.fixedRoom === null ? defaultStrategyRelaySockets() : undefined),
      urls: this.options.strategyConfig.relayConfig?.urls,
      ...handlers
    })
  }

  /** The app left its room under us (`room.leave()`): later connects must fail with a reason. */
  roomLeft (): void {
    if (this.fixedRoom !== null) this.fixedRoomLeft = true
  }

  private async roomCredentials (): Promise<RoomCredentials | null> {
    const { secret } = this.options
    this.credentials ??= secret === null
      ? Promise.resolve(null)
      : roomCredentials(secret, { appId: this.options.strategyConfig.appId, roomId: this.roomId ?? this.options.own.roomId ?? null })
    return await this.credentials
  }
}
