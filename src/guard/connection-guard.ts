/**
 * The guard of one RTCPeerConnection: it sees every frame a peer sends before Trystero does, and
 * keeps Trystero from being crashed or made to buffer without limit by it.
 *
 * - An exception from Trystero's handler (a JSON payload or metadata that fails to parse) is
 *   caught and reported; it never reaches the process.
 * - Frames for an action name nobody here claimed, or for a room this side has not bound on the
 *   connection, wait in the guard (not in Trystero, which would keep them forever) within
 *   `maxHeldBytes`, and go to Trystero in order once the name is claimed and the room bound. They
 *   are freed when the connection closes. While a room's handshake is pending only Trystero's
 *   handshake actions pass (Trystero drops everything else then anyway).
 * - The bytes of messages Trystero is reassembling are counted per message (`maxMessageBytes`)
 *   and in total (`maxInFlightBytes`); a message over either is never reassembled further.
 * - Messages Trystero keeps after delivery (`@_hsdata` while a handshake is pending, `@_stream`
 *   and `@_track` metadata waiting for media) count against `maxControlBytes`, and the room
 *   tokens a peer announces against `maxRemoteRoomTokens`.
 * - Rates (bytes/s and messages/s) are metered with a token bucket; limits are optional.
 *
 * A violation is reported, not acted on: the frame concerned is dropped (except for rates), and
 * the owner decides whether to `close()` the connection. Frames that do not parse as Trystero
 * 0.25 framing (a later Trystero) go to Trystero untouched and are counted.
 */
import { TrysteroYjsError } from '../errors.js'
import { ReportingObservable } from '../reporting-observable.js'
import { isActionNameClaimed, onClaimsChanged } from './action-claims.js'
import { tapDataChannel, type ChannelTap } from './channel-tap.js'
import { TokenBucket } from './rate-meter.js'
import { parseActionChunk, parseFrame, type ActionChunkHeader } from './trystero-framing.js'

const MiB = 1024 * 1024

/**
 * Bookkeeping charged per frame the guard holds and per chunk Trystero holds, on top of its
 * bytes: a 40-byte frame kept costs ~420 bytes of heap (Node 20, measured), so that a flood of
 * tiny frames is bounded as well as a flood of big ones.
 */
export const frameOverheadBytes = 512

/**
 * Messages whose start was dropped and whose last chunk has not come yet, followed so that their
 * rest is dropped too. A peer can open any number of them (one small frame each), so only the
 * newest this many are followed; forgetting one can only let a peer truncate its own message.
 */
const maxDiscardingMessages = 1024

/** Trystero internal actions whose delivered messages it keeps while the peer is active (media metadata waiting for its track). */
const retainedControlActions = new Set(['@_stream', '@_track'])
/** The actions Trystero accepts from a peer whose handshake is pending (`receiveWhilePending`). */
const handshakeActions = new Set(['@_hsdata', '@_hsready', '@_leave'])

export interface RateLimit {
  bytesPerSecond?: number
  /** Bucket size in bytes; default one second's worth. */
  burstBytes?: number
  messagesPerSecond?: number
  /** Bucket size in messages; default one second's worth. */
  burstMessages?: number
}

/** What the connection guard lets one peer's connection cost; every field has a default. */
export interface ConnectionGuardOptions {
  /** Largest message (all chunks' payload) Trystero may reassemble. Default 128 MiB. */
  maxMessageBytes?: number
  /** Bytes (plus per-chunk overhead) of unfinished messages Trystero may hold. Default `maxMessageBytes` + 16 MiB. */
  maxInFlightBytes?: number
  /** Bytes (plus per-frame overhead) of frames the guard holds for unclaimed names or unbound rooms. Default 16 MiB. */
  maxHeldBytes?: number
  /**
   * Bytes Trystero may keep of control traffic over the connection's life: everything passed for
   * a room whose handshake is pending, and `@_stream`/`@_track` metadata messages. Default 1 MiB.
   */
  maxControlBytes?: number
  /** Trystero's `handshakeTimeoutMs` (its default 10,000): a room not active by then is unbound again. */
  handshakeTimeoutMs?: number
  /** Room tokens a peer may announce as present at once. Default 256. */
  maxRemoteRoomTokens?: number
  /** Longest room token a peer may announce, in bytes (Trystero's are 64). Default 1,024. */
  maxRoomTokenBytes?: number
  /** Optional rate limits; a peer over them is reported (its frames still go through). */
  rateLimit?: RateLimit
  /** `activity` fires at most once per this many ms while frames arrive. Default 1,000. */
  activityIntervalMs?: number
  /** How long `close()` lets data channels announce their close before closing the connection. Default 1,000 ms. */
  closeGraceMs?: number
  /** Clock (ms since the epoch); for tests. */
  now?: () => number
}

/** Which limit of the connection guard a peer broke (or `malformed-frame`: Trystero's handler threw). */
export type ViolationKind =
  | 'malformed-frame'
  | 'message-too-large'
  | 'in-flight-budget'
  | 'held-budget'
  | 'control-budget'
  | 'room-token-budget'
  | 'rate-bytes'
  | 'rate-messages'

export interface GuardViolationDetails {
  kind: ViolationKind
  /** The limit crossed (bytes, count, or bytes/s and messages/s for rates); none for a malformed frame. */
  limit?: number
  /** The option that sets it, when a kind has more than one. */
  limitName?: string
  /** What the peer reached: the total it would have taken, or the rate bucket's debt. */
  figure?: number
  /** Byte length of the data-channel frame that crossed it. */
  byteLength: number
  /** Trystero action name of the frame, if it had one. */
  actionName?: string
  roomToken?: string
  cause?: unknown
}

const summaries: Record<ViolationKind, string> = {
  'malformed-frame': "a frame made Trystero's handler throw",
  'message-too-large': 'a message grew over maxMessageBytes; it is not reassembled further',
  'in-flight-budget': 'unfinished messages over maxInFlightBytes; the message is not reassembled further',
  'held-budget': 'frames for unclaimed actions or unbound rooms over maxHeldBytes; frame dropped',
  'control-budget': 'Trystero handshake/media control messages over maxControlBytes; message dropped',
  'room-token-budget': 'room presence over maxRemoteRoomTokens or maxRoomTokenBytes; frame dropped',
  'rate-bytes': 'peer over its byte rate',
  'rate-messages': 'peer over its message rate'
}

/** The option (of `ConnectionGuardOptions`, or `ProviderLimits` for rates) behind each kind. */
const limitNames: Record<ViolationKind, string | undefined> = {
  'malformed-frame': undefined,
  'message-too-large': 'maxMessageBytes',
  'in-flight-budget': 'maxInFlightBytes',
  'held-budget': 'maxHeldBytes',
  'control-budget': 'maxControlBytes',
  'room-token-budget': 'maxRemoteRoomTokens',
  'rate-bytes': 'maxBytesPerSecond',
  'rate-messages': 'maxMessagesPerSecond'
}

/**
 * A peer broke a guard limit. `messageType` is the Trystero action name; `limit` names the
 * option, `limitValue` is its value and `figure` what the peer reached.
 */
export class GuardViolation extends TrysteroYjsError {
  /** Which limit (or `malformed-frame`). */
  readonly kind: ViolationKind
  /** The Trystero action name of the frame, if it had one. */
  readonly actionName: string | undefined
  /** The Trystero room token of the frame, if it had one. */
  readonly roomToken: string | undefined

  constructor (details: GuardViolationDetails) {
    super(`connection guard: ${summaries[details.kind]}`, {
      messageType: details.actionName,
      byteLength: details.byteLength,
      cause: details.cause,
      ...(details.limit === undefined
        ? {}
        : { limit: details.limitName ?? limitNames[details.kind], limitValue: details.limit, figure: Math.ceil(details.figure ?? 0) })
    })
    this.name = 'GuardViolation'
    this.kind = details.kind
    this.actionName = details.actionName
    this.roomToken = details.roomToken
  }
}

export interface GuardActivity {
  lastReceivedAt: number
  receivedBytes: number
  receivedMessages: number
}

export interface ConnectionGuardEvents {
  violation: (violation: GuardViolation) => void
  activity: (activity: GuardActivity) => void
  /** The guard stopped: `close(reason)` was called, or the connection or its channels closed. */
  closed: (reason: string) => void
  error: (error: TrysteroYjsError) => void
  warning: (warning: TrysteroYjsError) => void
}

/** A frame the guard has parsed as a room frame. */
interface RoomChunk {
  tap: ChannelTap
  event: MessageEvent
  byteLength: number
  roomToken: string
  header: ActionChunkHeader
  /** `${roomToken}\0${actionName}`: frames wait and are released per room and action. */
  actionKey: string
  /** `${actionKey}\0${nonce}`: Trystero reassembles per room, action and nonce. */
  messageKey: string
}

/** One message as far as the guard follows it. */
interface MessageState {
  /** Payload bytes Trystero holds of it (unfinished). */
  payloadInTrystero: number
  /** What it is charged against maxInFlightBytes (payload plus per-chunk overhead). */
  chargedInFlight: number
  /** Chunks of it the guard holds. */
  held: number
  /** Drop its chunks up to and including the last one (the start was dropped). */
  discarding: boolean
  /** Trystero holds part of it and will never get the rest: every later chunk with this key is
   * dropped, else Trystero would glue the next message of this nonce onto that part. */
  poisoned: boolean
}

/**
 * Whether Trystero has a room bound on this connection, as far as this side's frames tell.
 * Trystero binds a room to a connection when signaling connects them in it, or when both sides
 * announced presence for its token; the room's handshake starts at once and sends `@_hsready`
 * when it passes; the peer is active once both `@_hsready` crossed. A handshake that fails or
 * times out unbinds the room without a frame that says so: hence the timeout here.
 */
interface TokenState {
  phase: 'unbound' | 'pending' | 'active'
  pendingSince: number
  sentReady: boolean
  receivedReady: boolean
  /** We announce the room (presence frames); the peer's announcements are in `remoteTokens`. */
  localPresent: boolean
}

/**
 * Subscribes a guard to claim changes without the registry keeping it alive: a connection that
 * is dropped without being closed must not stay in memory, with its held frames, for good.
 */
const forgetWatcher = new FinalizationRegistry<() => void>((stop) => stop())
const watchClaims = (guard: ConnectionGuard): (() => void) => {
  const ref = new WeakRef(guard)
  const stop = onClaimsChanged(() => ref.deref()?.scheduleRelease())
  forgetWatcher.register(guard, stop, ref)
  return () => {
    forgetWatcher.unregister(ref)
    stop()
  }
}

const sizeOf = (data: unknown): number => {
  if (typeof data === 'string') return new TextEncoder().encode(data).byteLength
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size
  return 0
}

const bytesOf = (data: unknown): Uint8Array | null => {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return null
}

export class ConnectionGuard extends ReportingObservable<ConnectionGuardEvents> {
  /** When the last frame arrived (any frame, even one dropped), by the guard's clock; 0 before. */
  lastReceivedAt = 0
  receivedBytes = 0
  /** Data-channel messages (Trystero chunks and frames) received. */
  receivedMessages = 0
  /** Frames the guard did not pass to Trystero (over a limit, or after close). */
  droppedFrames = 0
  /** Frames not in Trystero 0.25 framing, passed through untouched. */
  unparsedFrames = 0
  /** Frames whose handling threw inside Trystero. */
  malformedFrames = 0
  closed = false
  closeReason: string | null = null

  private readonly options: Required<Omit<ConnectionGuardOptions, 'rateLimit' | 'now'>>
  private readonly now: () => number
  private readonly byteBucket: TokenBucket | null
  private readonly messageBucket: TokenBucket | null
  private byteDebt = false
  private messageDebt = false
  private lastActivityAt = -Infinity

  private readonly taps: ChannelTap[] = []
  private readonly openChannels = new Set<RTCDataChannel>()
  private held: RoomChunk[] = []
  private heldBytesCharged = 0
  private readonly heldPerAction = new Map<string, number>()
  private readonly messages = new Map<string, MessageState>()
  /** Keys of messages with `discarding` set, oldest first. */
  private readonly discarding = new Set<string>()
  private inFlightCharged = 0
  private controlBytes = 0
  private readonly tokens = new Map<string, TokenState>()
  private readonly remoteTokens = new Set<string>()
  private releaseScheduled = false
  private releasing = false
  private releaseAgain = false
  private readonly stopClaims: () => void

  constructor (readonly connection: RTCPeerConnection, options: ConnectionGuardOptions = {}) {
    super()
    const maxMessageBytes = options.maxMessageBytes ?? 128 * MiB
    this.options = {
      maxMessageBytes,
      maxInFlightBytes: options.maxInFlightBytes ?? maxMessageBytes + 16 * MiB,
      maxHeldBytes: options.maxHeldBytes ?? 16 * MiB,
      maxControlBytes: options.maxControlBytes ?? MiB,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
      maxRemoteRoomTokens: options.maxRemoteRoomTokens ?? 256,
      maxRoomTokenBytes: options.maxRoomTokenBytes ?? 1024,
      activityIntervalMs: options.activityIntervalMs ?? 1000,
      closeGraceMs: options.closeGraceMs ?? 1000
    }
    this.now = options.now ?? Date.now
    const rate = options.rateLimit ?? {}
    const start = this.now()
    this.byteBucket = rate.bytesPerSecond === undefined ? null : new TokenBucket(rate.bytesPerSecond, rate.burstBytes ?? rate.bytesPerSecond, start)
    this.messageBucket = rate.messagesPerSecond === undefined ? null : new TokenBucket(rate.messagesPerSecond, rate.burstMessages ?? rate.messagesPerSecond, start)
    this.stopClaims = watchClaims(this)
  }

  /** Bytes (with overhead) of frames the guard holds now. */
  get heldBytes (): number { return this.heldBytesCharged }
  /** Bytes (with overhead) of unfinished messages Trystero holds now, as far as the guard knows. */
  get inFlightBytes (): number { return this.inFlightCharged }
  /** Messages the guard follows now (unfinished, held, or being dropped); for diagnostics. */
  get trackedMessages (): number { return this.messages.size }

  /** Puts the guard in front of `channel` (every data channel of the connection). */
  adopt (channel: RTCDataChannel): void {
    if (this.taps.some((tap) => tap.channel === channel)) return
    const tap = tapDataChannel(channel, {
      incoming: (from, event) => this.incoming(from, event),
      outgoing: (data) => this.outgoing(data)
    })
    this.taps.push(tap)
    this.openChannels.add(channel)
    channel.addEventListener('close', () => {
      this.openChannels.delete(channel)
      if (this.openChannels.size === 0) this.stop('data channel closed')
    })
  }

  /**
   * Closes the connection (Trystero then reports the peer as left) and frees what the guard
   * holds. The data channels are closed first, and the connection once they fired `close` (or
   * after `closeGraceMs`): Trystero hears of a closed peer through its channel's `close` event,
   * which a closing channel fires everywhere, while what `RTCPeerConnection.close()` fires on its
   * channels differs between implementations.
   */
  close (reason: string): void {
    if (this.closed) return
    this.stop(reason)
    const channels = this.taps.map((tap) => tap.channel).filter((channel) => channel.readyState !== 'closed')
    const closeConnection = (): void => {
      clearTimeout(timer)
      try { this.connection.close() } catch (error) { this.reportError(new TrysteroYjsError('closing the connection failed', { cause: error })) }
    }
    const timer = setTimeout(closeConnection, channels.length === 0 ? 0 : this.options.closeGraceMs)
    let open = channels.length
    for (const channel of channels) {
      channel.addEventListener('close', () => { if (--open === 0) closeConnection() }, { once: true })
      try { channel.close() } catch {}
    }
  }

  /** The connection is gone (closed by anyone): free everything, pass nothing more. */
  stop (reason: string): void {
    if (this.closed) return
    this.closed = true
    this.closeReason = reason
    this.stopClaims()
    this.held = []
    this.heldBytesCharged = 0
    this.heldPerAction.clear()
    this.messages.clear()
    this.discarding.clear()
    this.inFlightCharged = 0
    this.tokens.clear()
    this.remoteTokens.clear()
    this.emit('closed', [reason])
  }

  // --- incoming ---

  private incoming (tap: ChannelTap, event: MessageEvent): void {
    try {
      this.receive(tap, event)
    } catch (error) {
      // A fault of ours: report it and drop the frame rather than let it past unguarded.
      this.droppedFrames++
      this.reportError(new TrysteroYjsError('connection guard failed on a frame', { cause: error }))
    }
  }

  private receive (tap: ChannelTap, event: MessageEvent): void {
    const now = this.now()
    const data: unknown = event.data
    const byteLength = sizeOf(data)
    this.lastReceivedAt = now
    this.receivedBytes += byteLength
    this.receivedMessages++
    if (now - this.lastActivityAt >= this.options.activityIntervalMs) {
      this.lastActivityAt = now
      this.emit('activity', [{ lastReceivedAt: now, receivedBytes: this.receivedBytes, receivedMessages: this.receivedMessages }])
    }
    if (this.closed) {
      this.droppedFrames++
      return
    }
    this.meterRate(byteLength, now)
    const bytes = bytesOf(data)
    const frame = bytes === null ? null : parseFrame(bytes)
    if (frame === null) {
      this.unparsedFrames++
      this.deliver(tap, event, byteLength)
      return
    }
    if (frame.kind === 'presence') {
      if (this.receivePresence(frame.roomToken, frame.present, byteLength)) this.deliver(tap, event, byteLength)
      else this.droppedFrames++
      return
    }
    const header = parseActionChunk(frame.chunk)
    const actionKey = `${frame.roomToken}\u0000${header.actionName}`
    const chunk: RoomChunk = { tap, event, byteLength, roomToken: frame.roomToken, header, actionKey, messageKey: `${actionKey}\u0000${header.nonce}` }
    const state = this.messages.get(chunk.messageKey)
    if (state?.poisoned === true) {
      this.droppedFrames++
      return
    }
    if (state?.discarding === true) {
      this.droppedFrames++
      if (header.last) this.stopDiscarding(chunk.messageKey, state)
      return
    }
    if (this.releasable(chunk)) {
      // Behind frames of its action that wait for a release already scheduled: keep the order.
      if ((this.heldPerAction.get(actionKey) ?? 0) === 0) {
        this.forward(chunk)
        return
      }
      this.scheduleRelease()
    }
    this.hold(chunk)
  }

  private meterRate (byteLength: number, now: number): void {
    if (this.byteBucket !== null) {
      const debt = this.byteBucket.take(byteLength, now)
      if (debt > 0 && !this.byteDebt) {
        this.violation({ kind: 'rate-bytes', limit: this.byteBucket.ratePerSecond, figure: debt, byteLength })
      }
      this.byteDebt = debt > 0
    }
    if (this.messageBucket !== null) {
      const debt = this.messageBucket.take(1, now)
      if (debt > 0 && !this.messageDebt) {
        this.violation({ kind: 'rate-messages', limit: this.messageBucket.ratePerSecond, figure: debt, byteLength })
      }
      this.messageDebt = debt > 0
    }
  }

  /** Mirrors Trystero's set of the peer's room tokens, which has no limit. */
  private receivePresence (roomToken: string, present: boolean, byteLength: number): boolean {
    if (!present) {
      this.remoteTokens.delete(roomToken)
      return true
    }
    if (!this.remoteTokens.has(roomToken)) {
      const tokenBytes = byteLength - 4
      if (tokenBytes > this.options.maxRoomTokenBytes) {
        this.violation({ kind: 'room-token-budget', limit: this.options.maxRoomTokenBytes, limitName: 'maxRoomTokenBytes', figure: tokenBytes, byteLength, roomToken })
        return false
      }
      if (this.remoteTokens.size >= this.options.maxRemoteRoomTokens) {
        this.violation({ kind: 'room-token-budget', limit: this.options.maxRemoteRoomTokens, figure: this.remoteTokens.size + 1, byteLength, roomToken })
        return false
      }
      this.remoteTokens.add(roomToken)
    }
    const state = this.tokens.get(roomToken)
    if (state?.localPresent === true) this.startPending(state)
    return true
  }

  /** Whether `chunk` may go to Trystero now (else the guard holds it). */
  private releasable (chunk: RoomChunk): boolean {
    const token = this.tokens.get(chunk.roomToken)
    const phase = token === undefined ? 'unbound' : this.phaseOf(token)
    if (phase === 'unbound') return false
    if (phase === 'pending' && !handshakeActions.has(chunk.header.actionName)) return false
    return isActionNameClaimed(chunk.header.actionName, chunk.roomToken)
  }

  private hold (chunk: RoomChunk): void {
    const charge = chunk.byteLength + frameOverheadBytes
    if (this.heldBytesCharged + charge > this.options.maxHeldBytes) {
      this.violation({
        kind: 'held-budget', limit: this.options.maxHeldBytes, figure: this.heldBytesCharged + charge,
        byteLength: chunk.byteLength, actionName: chunk.header.actionName, roomToken: chunk.roomToken
      })
      this.discard(chunk)
      return
    }
    this.held.push(chunk)
    this.heldBytesCharged += charge
    this.heldPerAction.set(chunk.actionKey, (this.heldPerAction.get(chunk.actionKey) ?? 0) + 1)
    this.messageState(chunk.messageKey).held++
  }

  /** Passes a chunk to Trystero, within the per-message, in-flight and control budgets. */
  private forward (chunk: RoomChunk): void {
    const { header } = chunk
    const state = this.messages.get(chunk.messageKey)
    const payload = (state?.payloadInTrystero ?? 0) + header.payloadBytes
    const context = { byteLength: chunk.byteLength, actionName: header.actionName, roomToken: chunk.roomToken }
    if (payload > this.options.maxMessageBytes) {
      this.violation({ kind: 'message-too-large', limit: this.options.maxMessageBytes, figure: payload, ...context })
      this.discard(chunk)
      return
    }
    // What Trystero may keep after this chunk: anything while the room's handshake is pending
    // (a failed handshake unbinds the room silently, and frames then pile up in Trystero), and
    // finished media metadata messages.
    const token = this.tokenState(chunk.roomToken)
    const control = this.phaseOf(token) === 'pending'
      ? header.payloadBytes + frameOverheadBytes
      : header.last && retainedControlActions.has(header.actionName) ? payload + frameOverheadBytes : 0
    if (control > 0 && this.controlBytes + control > this.options.maxControlBytes) {
      this.violation({ kind: 'control-budget', limit: this.options.maxControlBytes, figure: this.controlBytes + control, ...context })
      this.discard(chunk)
      return
    }
    if (header.last) {
      if (state !== undefined) {
        this.inFlightCharged -= state.chargedInFlight
        state.payloadInTrystero = 0
        state.chargedInFlight = 0
        this.forgetIfIdle(chunk.messageKey, state)
      }
    } else {
      const charge = header.payloadBytes + frameOverheadBytes
      if (this.inFlightCharged + charge > this.options.maxInFlightBytes) {
        this.violation({ kind: 'in-flight-budget', limit: this.options.maxInFlightBytes, figure: this.inFlightCharged + charge, ...context })
        this.discard(chunk)
        return
      }
      const target = state ?? this.messageState(chunk.messageKey)
      target.payloadInTrystero = payload
      target.chargedInFlight += charge
      this.inFlightCharged += charge
    }
    this.controlBytes += control
    const delivered = this.deliver(chunk.tap, chunk.event, chunk.byteLength, header.actionName, chunk.roomToken)
    if (!header.last || !delivered) return
    if (header.actionName === '@_hsready') {
      token.receivedReady = true
      this.maybeActivate(token)
    } else if (header.actionName === '@_leave') {
      // The peer left that room: Trystero dropped the peer's binding and its unfinished messages.
      this.unbind(chunk.roomToken, token)
    }
  }

  /**
   * Drops a chunk without letting Trystero see a message with a hole in it: the guard's held
   * chunks of that message go too, and so do its later chunks.
   */
  private discard (chunk: RoomChunk): void {
    this.droppedFrames++
    const state = this.messageState(chunk.messageKey)
    if (state.held > 0) {
      this.held = this.held.filter((other) => {
        if (other.messageKey !== chunk.messageKey) return true
        this.unhold(other)
        this.droppedFrames++
        return false
      })
    }
    if (state.payloadInTrystero > 0) {
      state.poisoned = true
    } else if (!chunk.header.last && !state.discarding) {
      state.discarding = true
      this.discarding.add(chunk.messageKey)
      if (this.discarding.size > maxDiscardingMessages) {
        const oldest = this.discarding.values().next().value as string
        const old = this.messages.get(oldest)
        if (old === undefined) this.discarding.delete(oldest)
        else this.stopDiscarding(oldest, old)
      }
    }
    this.forgetIfIdle(chunk.messageKey, state)
  }

  /** Hands the frame to Trystero; false if Trystero's handler threw on it. */
  private deliver (tap: ChannelTap, event: MessageEvent, byteLength: number, actionName?: string, roomToken?: string): boolean {
    const thrown = tap.deliver(event)
    for (const error of thrown) {
      this.malformedFrames++
      this.violation({ kind: 'malformed-frame', byteLength, actionName, roomToken, cause: error })
    }
    return thrown.length === 0
  }

  // --- held frames ---

  private unhold (chunk: RoomChunk): void {
    this.heldBytesCharged -= chunk.byteLength + frameOverheadBytes
    const left = (this.heldPerAction.get(chunk.actionKey) ?? 1) - 1
    if (left > 0) this.heldPerAction.set(chunk.actionKey, left)
    else this.heldPerAction.delete(chunk.actionKey)
    const state = this.messages.get(chunk.messageKey)
    if (state !== undefined) {
      state.held--
      this.forgetIfIdle(chunk.messageKey, state)
    }
  }

  /**
   * Releases in a microtask, not inside the call that bound the room or claimed the name: that
   * call is often Trystero's own send, and must not re-enter Trystero's receive path. Frames
   * that arrive meanwhile queue behind the held ones of their action (see `receive`).
   */
  /** @internal Called when claims change (see `watchClaims`). */
  scheduleRelease (): void {
    if (this.releaseScheduled || this.held.length === 0 || this.closed) return
    this.releaseScheduled = true
    queueMicrotask(() => {
      this.releaseScheduled = false
      this.release()
    })
  }

  private release (): void {
    if (this.releasing) {
      this.releaseAgain = true
      return
    }
    this.releasing = true
    try {
      do {
        this.releaseAgain = false
        const pending = this.held
        this.held = []
        for (let i = 0; i < pending.length; i++) {
          const chunk = pending[i]!
          if (this.closed) return
          if (!this.releasable(chunk)) {
            this.held.push(chunk)
            continue
          }
          this.unhold(chunk)
          const state = this.messages.get(chunk.messageKey)
          // Its message was cut while this chunk waited (a budget violation during this loop).
          if (state?.poisoned === true || state?.discarding === true) {
            this.droppedFrames++
            if (state.discarding && chunk.header.last) this.stopDiscarding(chunk.messageKey, state)
            else this.forgetIfIdle(chunk.messageKey, state)
            continue
          }
          try {
            this.forward(chunk)
          } catch (error) {
            this.reportError(new TrysteroYjsError('connection guard failed releasing a frame', { cause: error }))
          }
          // A budget violation inside forward may have filtered `this.held`; frames not yet
          // visited stay in `pending` and are judged on their own.
        }
      } while (this.releaseAgain && !this.closed)
    } finally {
      this.releasing = false
    }
  }

  // --- outgoing: which rooms this side has bound ---

  private outgoing (data: unknown): void {
    try {
      const bytes = bytesOf(data)
      const frame = bytes === null ? null : parseFrame(bytes)
      if (frame === null) return
      const state = this.tokenState(frame.roomToken)
      if (frame.kind === 'presence') {
        state.localPresent = frame.present
        if (!frame.present) this.unbind(frame.roomToken, state)
        else if (this.remoteTokens.has(frame.roomToken)) this.startPending(state)
        return
      }
      // Trystero sends room frames only for a room bound on this connection.
      this.startPending(state)
      const header = parseActionChunk(frame.chunk)
      if (header.actionName === '@_hsready' && header.last) {
        state.sentReady = true
        this.maybeActivate(state)
      }
    } catch (error) {
      this.reportError(new TrysteroYjsError('connection guard failed reading an outgoing frame', { cause: error }))
    }
  }

  // --- room binding (see TokenState) ---

  private phaseOf (state: TokenState): TokenState['phase'] {
    if (state.phase === 'pending' && this.now() - state.pendingSince > this.options.handshakeTimeoutMs) {
      state.phase = 'unbound'
    }
    return state.phase
  }

  private startPending (state: TokenState): void {
    if (this.phaseOf(state) !== 'unbound') return
    state.phase = 'pending'
    state.pendingSince = this.now()
    state.sentReady = false
    state.receivedReady = false
    this.scheduleRelease()
  }

  private maybeActivate (state: TokenState): void {
    if (this.phaseOf(state) !== 'pending' || !state.sentReady || !state.receivedReady) return
    state.phase = 'active'
    this.scheduleRelease()
  }

  /** Trystero no longer has the room bound here, nor unfinished messages of it. */
  private unbind (roomToken: string, state: TokenState): void {
    state.phase = 'unbound'
    state.sentReady = false
    state.receivedReady = false
    const prefix = `${roomToken}\u0000`
    for (const [key, message] of this.messages) {
      if (!key.startsWith(prefix)) continue
      this.inFlightCharged -= message.chargedInFlight
      message.payloadInTrystero = 0
      message.chargedInFlight = 0
      message.poisoned = false
      this.forgetIfIdle(key, message)
    }
  }

  // --- bookkeeping ---

  private tokenState (roomToken: string): TokenState {
    let state = this.tokens.get(roomToken)
    if (state === undefined) {
      state = { phase: 'unbound', pendingSince: 0, sentReady: false, receivedReady: false, localPresent: false }
      this.tokens.set(roomToken, state)
    }
    return state
  }

  private messageState (messageKey: string): MessageState {
    let state = this.messages.get(messageKey)
    if (state === undefined) {
      state = { payloadInTrystero: 0, chargedInFlight: 0, held: 0, discarding: false, poisoned: false }
      this.messages.set(messageKey, state)
    }
    return state
  }

  private stopDiscarding (messageKey: string, state: MessageState): void {
    state.discarding = false
    this.discarding.delete(messageKey)
    this.forgetIfIdle(messageKey, state)
  }

  private forgetIfIdle (messageKey: string, state: MessageState): void {
    if (state.payloadInTrystero === 0 && state.chargedInFlight === 0 && state.held === 0 && !state.discarding && !state.poisoned) {
      this.messages.delete(messageKey)
    }
  }

  private violation (details: GuardViolationDetails): void {
    this.emit('violation', [new GuardViolation(details)])
  }
}
