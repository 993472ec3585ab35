/**
 * The connection guard against a stand-in data channel: what reaches Trystero's handler, in what
 * order, what is held and dropped, and that nothing thrown by the handler escapes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  claimActionNames,
  connectionGuard,
  frameOverheadBytes,
  guardRtcPolyfill,
  type ConnectionGuardOptions,
  type GuardViolation
} from '../../src/guard/index.js'
import {
  actionHeaderBytes,
  encodeActionChunk,
  encodePresenceFrame,
  encodeRoomFrame,
  parseActionChunk,
  parseFrame,
  trysteroRoomToken,
  type ActionChunkFields
} from '../../src/guard/trystero-framing.js'
import { FakeBrowserPeerConnection, FakePeerConnection, type AnyFakeChannel } from '../support/fake-rtc.js'

const roomA = 'a'.repeat(64)
const roomB = 'b'.repeat(64)

const frame = (roomToken: string, fields: ActionChunkFields): Uint8Array => encodeRoomFrame(roomToken, encodeActionChunk(fields))
const hsready = (roomToken: string): Uint8Array => frame(roomToken, { actionName: '@_hsready', json: false })

/** The microtasks the guard releases held frames in (no clock involved). */
const settle = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }

const releases: Array<() => void> = []
const claim = (...args: Parameters<typeof claimActionNames>): void => { releases.push(claimActionNames(...args)) }
afterEach(() => { for (const release of releases.splice(0)) release() })

interface Setup {
  pc: FakePeerConnection
  channel: AnyFakeChannel
  delivered: Uint8Array[]
  violations: GuardViolation[]
  clock: { now: () => number, advance: (ms: number) => void }
  /** `actionName#nonce` of each frame Trystero's handler got. */
  seen: () => string[]
}

const setup = (options: ConnectionGuardOptions = {}, Base: typeof FakePeerConnection = FakePeerConnection): Setup => {
  let time = 1_000_000
  const clock = { now: () => time, advance: (ms: number) => { time += ms } }
  const Guarded = guardRtcPolyfill(Base as never, { ...options, now: clock.now }) as unknown as typeof FakePeerConnection
  const pc = new Guarded()
  const channel = pc.createDataChannel('data')
  const delivered: Uint8Array[] = []
  // What Trystero's peer.mjs does.
  channel.onmessage = (event) => { delivered.push(new Uint8Array(event.data as ArrayBuffer)) }
  const violations: GuardViolation[] = []
  connectionGuard(pc)!.on('violation', (violation) => violations.push(violation))
  const seen = (): string[] => delivered.map((bytes) => {
    const parsed = parseFrame(bytes)
    if (parsed?.kind !== 'room') return parsed?.kind ?? 'unparsed'
    const header = parseActionChunk(parsed.chunk)
    return `${header.actionName}#${header.nonce}`
  })
  return { pc, channel, delivered, violations, clock, seen }
}

/** Both sides' `@_hsready` crossed: the room is active on this connection. */
const activate = async (channel: AnyFakeChannel, roomToken: string): Promise<void> => {
  channel.send(hsready(roomToken))
  channel.receive(hsready(roomToken))
  await settle()
}

describe('connection guard: exceptions', () => {
  it("contains an exception from Trystero's handler and reports it with the frame's size", async () => {
    const { channel, violations, pc } = setup()
    await activate(channel, roomA)
    const broken = frame(roomA, { actionName: '@_ping', json: true, payload: new TextEncoder().encode('{"not json') })
    const error = new Error('Trystero: failed to parse JSON')
    channel.onmessage = () => { throw error }
    expect(() => channel.receive(broken)).not.toThrow()
    expect(violations).toHaveLength(1)
    expect(violations[0]).toMatchObject({ kind: 'malformed-frame', byteLength: broken.byteLength, actionName: '@_ping', cause: error })
    expect(connectionGuard(pc)!.malformedFrames).toBe(1)
  })

  it("contains the exception of Trystero's real action wire on broken JSON payload and metadata", async () => {
    const wirePath = '../../node_modules/@trystero-p2p/core/dist/action-wire.mjs'
    const { createActionWireManager } = await import(wirePath) as { createActionWireManager: (...args: any[]) => any }
    const wire = createActionWireManager({ getPeer: () => undefined, getPeerIds: () => [], canReceiveFromPeer: () => true, throwIfAborted: () => {} })
    const received: unknown[] = []
    wire.makeInternalAction('@_ping').onMessage((payload: unknown) => received.push(payload))
    const { channel, violations } = setup()
    await activate(channel, roomA)
    channel.onmessage = (event) => {
      const parsed = parseFrame(new Uint8Array(event.data as ArrayBuffer))
      if (parsed?.kind === 'room') wire.handleData('peer', parsed.chunk.slice().buffer)
    }
    const json = (text: string, extra: Partial<ActionChunkFields> = {}): Uint8Array =>
      frame(roomA, { actionName: '@_ping', json: true, payload: new TextEncoder().encode(text), ...extra })
    channel.receive(json('{broken'))
    channel.receive(json('[1,', { nonce: 1, meta: true, last: false }))
    channel.receive(json('"after"', { nonce: 2 }))
    expect(violations.map((v) => v.kind)).toEqual(['malformed-frame', 'malformed-frame'])
    expect(String((violations[0]!.cause as Error).message)).toMatch(/failed to parse JSON/)
    expect(received).toEqual(['after'])
  })

  it('passes frames it cannot parse through untouched, and counts them', () => {
    const { channel, pc } = setup()
    const got: unknown[] = []
    channel.onmessage = (event) => { got.push(event.data) }
    const future = Uint8Array.of(3, 0, 1, 65, 66)
    channel.receive(future)
    channel.receive('a string')
    expect(got).toEqual([future, 'a string'])
    expect(connectionGuard(pc)!.unparsedFrames).toBe(2)
  })
})

describe('connection guard: holding and replay', () => {
  it('holds frames of a room this side has not bound, and replays them in order once it is active', async () => {
    const { channel, seen } = setup()
    channel.receive(hsready(roomA))
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 1 }))
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 2 }))
    await settle()
    expect(seen()).toEqual([])
    // Our handshake ready goes out: pending, then active (theirs was held); all follow in order.
    channel.send(hsready(roomA))
    await settle()
    expect(seen()).toEqual(['@_hsready#0', '@_ping#1', '@_ping#2'])
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 3 }))
    expect(seen().at(-1)).toBe('@_ping#3')
  })

  it('binds a room when both sides announce presence, and passes only handshake actions until active', async () => {
    const { channel, seen } = setup()
    channel.send(encodePresenceFrame(roomA, true))
    channel.receive(encodePresenceFrame(roomA, true))
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 1 }))
    channel.receive(frame(roomA, { actionName: '@_hsdata', nonce: 1, json: true, payload: new TextEncoder().encode('{}') }))
    await settle()
    expect(seen()).toEqual(['presence', '@_hsdata#1'])
    await activate(channel, roomA)
    expect(seen()).toEqual(['presence', '@_hsdata#1', '@_hsready#0', '@_ping#1'])
  })

  it('holds an unclaimed action until it is claimed, then replays it; later frames keep their order', async () => {
    const { channel, seen } = setup()
    await activate(channel, roomA)
    channel.receive(frame(roomA, { actionName: 'app:chat', nonce: 1 }))
    channel.receive(frame(roomA, { actionName: 'app:chat', nonce: 2 }))
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 7 }))
    expect(seen()).toEqual(['@_hsready#0', '@_ping#7'])
    claim(['app:chat'])
    // A frame arriving before the release runs waits behind the held ones.
    channel.receive(frame(roomA, { actionName: 'app:chat', nonce: 3 }))
    await settle()
    expect(seen()).toEqual(['@_hsready#0', '@_ping#7', 'app:chat#1', 'app:chat#2', 'app:chat#3'])
  })

  it('applies a room-scoped claim to that room only', async () => {
    const { channel, seen } = setup()
    await activate(channel, roomA)
    await activate(channel, roomB)
    claim(['app:doc'], { roomToken: roomA })
    channel.receive(frame(roomA, { actionName: 'app:doc', nonce: 1 }))
    channel.receive(frame(roomB, { actionName: 'app:doc', nonce: 2 }))
    expect(seen().filter((s) => s.startsWith('app:'))).toEqual(['app:doc#1'])
  })

  it('takes a claim scoped by app and room id once their token is derived', async () => {
    const { channel, seen } = setup()
    const roomC = await trysteroRoomToken('app-x', 'room-y')
    await activate(channel, roomC)
    channel.receive(frame(roomC, { actionName: 'app:doc', nonce: 1 }))
    expect(seen()).toEqual(['@_hsready#0'])
    const delivered = new Promise<void>((resolve) => channel.addEventListener('message', () => resolve(), { once: true }))
    claim(['app:doc'], { appId: 'app-x', roomId: 'room-y' })
    await delivered
    expect(seen()).toEqual(['@_hsready#0', 'app:doc#1'])
  })

  it('drops frames past maxHeldBytes, with a violation, and never a message with a hole', async () => {
    const payload = new Uint8Array(1000)
    const frameBytes = frame(roomA, { actionName: 'app:x', payload }).byteLength
    const { channel, seen, violations, pc } = setup({ maxHeldBytes: 3 * (frameBytes + frameOverheadBytes) })
    await activate(channel, roomA)
    // Message 1 in three chunks fits; message 2's second chunk does not: its first goes too.
    channel.receive(frame(roomA, { actionName: 'app:x', nonce: 1, last: false, payload }))
    channel.receive(frame(roomA, { actionName: 'app:x', nonce: 1, last: false, payload }))
    channel.receive(frame(roomA, { actionName: 'app:x', nonce: 1, last: true, payload }))
    expect(connectionGuard(pc)!.heldBytes).toBe(3 * (frameBytes + frameOverheadBytes))
    channel.receive(frame(roomA, { actionName: 'app:x', nonce: 2, last: false, payload }))
    expect(violations.map((v) => [v.kind, v.limitValue, v.figure])).toEqual([['held-budget', 3 * (frameBytes + frameOverheadBytes), 4 * (frameBytes + frameOverheadBytes)]])
    expect(connectionGuard(pc)!.heldBytes).toBe(3 * (frameBytes + frameOverheadBytes))
    // The rest of message 2 is dropped up to its last chunk; message 3 is held again.
    channel.receive(frame(roomA, { actionName: 'app:x', nonce: 2, last: true, payload }))
    claim(['app:x'])
    await settle()
    channel.receive(frame(roomA, { actionName: 'app:x', nonce: 3, last: true, payload }))
    expect(seen().filter((s) => s.startsWith('app:'))).toEqual(['app:x#1', 'app:x#1', 'app:x#1', 'app:x#3'])
  })

  it('drops what it holds when the connection closes, and replays nothing afterwards', async () => {
    const { channel, seen, pc } = setup()
    await activate(channel, roomA)
    channel.receive(frame(roomA, { actionName: 'app:late', nonce: 1, payload: new Uint8Array(5000) }))
    const guard = connectionGuard(pc)!
    expect(guard.heldBytes).toBeGreaterThan(5000)
    pc.close()
    expect(guard.heldBytes).toBe(0)
    expect(guard.closed).toBe(true)
    claim(['app:late'])
    await settle()
    expect(seen()).toEqual(['@_hsready#0'])
  })

  it('unbinds a room when the peer leaves it, and when this side leaves it', async () => {
    const { channel, seen } = setup()
    await activate(channel, roomA)
    channel.receive(frame(roomA, { actionName: '@_leave', nonce: 1 }))
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 2 }))
    expect(seen()).toEqual(['@_hsready#0', '@_leave#1'])
    await activate(channel, roomA)
    expect(seen().slice(2)).toEqual(['@_hsready#0', '@_ping#2'])
    channel.send(encodePresenceFrame(roomA, false))
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 3 }))
    expect(seen().at(-1)).toBe('@_ping#2')
  })

  it('unbinds a room whose handshake did not finish within handshakeTimeoutMs', async () => {
    const { channel, seen, clock } = setup({ handshakeTimeoutMs: 10_000 })
    channel.send(hsready(roomA))
    channel.receive(frame(roomA, { actionName: '@_hsdata', nonce: 1 }))
    clock.advance(10_001)
    channel.receive(frame(roomA, { actionName: '@_hsdata', nonce: 2 }))
    expect(seen()).toEqual(['@_hsdata#1'])
  })

  it('guards `message` listeners too, and takes over a handler set before it was adopted', async () => {
    const Guarded = guardRtcPolyfill(FakePeerConnection as never, { now: () => 0 }) as unknown as typeof FakePeerConnection
    const pc = new Guarded()
    const got: string[] = []
    // Trystero's answering side: the handler is set inside `ondatachannel`, which
    // node-datachannel calls before the guard's own `datachannel` listener.
    pc.ondatachannel = ({ channel }) => { channel.onmessage = () => got.push('handler') }
    const channel = pc.remoteChannel()
    const listener = (): void => { got.push('listener') }
    channel.addEventListener('message', listener)
    channel.receive(frame(roomA, { actionName: '@_ping' }))
    expect(got).toEqual([])
    channel.send(hsready(roomA))
    channel.receive(hsready(roomA))
    await settle()
    expect(got).toEqual(['handler', 'listener', 'handler', 'listener'])
    channel.removeEventListener('message', listener)
    channel.addEventListener('message', () => { throw new Error('boom') }, { once: true })
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 1 }))
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 2 }))
    expect(got.slice(4)).toEqual(['handler', 'handler'])
    expect(connectionGuard(pc)!.malformedFrames).toBe(1)
  })

  it("works the same on a browser-shaped channel (a prototype onmessage accessor)", async () => {
    const { channel, seen, violations } = setup({}, FakeBrowserPeerConnection)
    channel.receive(frame(roomA, { actionName: '@_ping', nonce: 1 }))
    expect(seen()).toEqual([])
    await activate(channel, roomA)
    expect(seen()).toEqual(['@_hsready#0', '@_ping#1'])
    channel.onmessage = () => { throw new Error('boom') }
    expect(() => channel.receive(frame(roomA, { actionName: '@_ping', nonce: 2 }))).not.toThrow()
    expect(violations.map((v) => v.kind)).toEqual(['malformed-frame'])
  })
})

describe('connection guard: budgets', () => {
  const chunkOf = (nonce: number, bytes: number, last: boolean, actionName = '@_ping'): Uint8Array =>
    frame(roomA, { actionName, nonce, last, payload: new Uint8Array(bytes) })

  it('stops reassembling a message that grows past maxMessageBytes, and every later chunk of it', async () => {
    const { channel, seen, violations, pc } = setup({ maxMessageBytes: 2500 })
    await activate(channel, roomA)
    channel.receive(chunkOf(1, 1000, false))
    channel.receive(chunkOf(1, 1000, false))
    channel.receive(chunkOf(1, 1000, false))
    channel.receive(chunkOf(1, 1000, true))
    expect(seen()).toEqual(['@_hsready#0', '@_ping#1', '@_ping#1'])
    expect(violations.map((v) => [v.kind, v.limitValue, v.figure])).toEqual([['message-too-large', 2500, 3000]])
    // Trystero holds the first 2000 bytes for good: this slot stays closed (a new message there
    // would be glued onto them), other nonces go on.
    channel.receive(chunkOf(1, 10, true))
    channel.receive(chunkOf(2, 10, true))
    expect(seen().slice(3)).toEqual(['@_ping#2'])
    expect(connectionGuard(pc)!.inFlightBytes).toBe(2 * (1000 + frameOverheadBytes))
  })

  it('follows a bounded number of cut messages, however many a peer opens', async () => {
    const { channel, pc } = setup({ maxHeldBytes: 0 })
    await activate(channel, roomA)
    for (let nonce = 0; nonce < 5000; nonce++) channel.receive(frame(roomA, { actionName: `app:${nonce}`, nonce, last: false }))
    expect(connectionGuard(pc)!.droppedFrames).toBe(5000)
    expect(connectionGuard(pc)!.trackedMessages).toBeLessThanOrEqual(1024)
  })

  it('counts unfinished messages against maxInFlightBytes and frees them when they finish', async () => {
    const charge = 1000 + frameOverheadBytes
    const { channel, seen, violations, pc } = setup({ maxInFlightBytes: 3 * charge })
    const guard = connectionGuard(pc)!
    await activate(channel, roomA)
    channel.receive(chunkOf(1, 1000, false))
    channel.receive(chunkOf(2, 1000, false))
    channel.receive(chunkOf(3, 1000, false))
    expect(guard.inFlightBytes).toBe(3 * charge)
    channel.receive(chunkOf(4, 1000, false))
    expect(violations.map((v) => v.kind)).toEqual(['in-flight-budget'])
    channel.receive(chunkOf(4, 1000, true))
    for (const nonce of [1, 2, 3]) channel.receive(chunkOf(nonce, 10, true))
    expect(guard.inFlightBytes).toBe(0)
    expect(seen().filter((s) => s === '@_ping#4')).toEqual([])
    channel.receive(chunkOf(4, 10, true))
    expect(seen().at(-1)).toBe('@_ping#4')
  })

  it('frees the in-flight count of a room the peer left (Trystero drops its unfinished messages)', async () => {
    const { channel, pc } = setup()
    await activate(channel, roomA)
    channel.receive(chunkOf(1, 1000, false))
    expect(connectionGuard(pc)!.inFlightBytes).toBe(1000 + frameOverheadBytes)
    channel.receive(frame(roomA, { actionName: '@_leave', nonce: 9 }))
    expect(connectionGuard(pc)!.inFlightBytes).toBe(0)
  })

  it('bounds what Trystero keeps of handshake and media control messages (maxControlBytes)', async () => {
    // Each message is charged its payload plus the per-frame overhead: 1,512 bytes.
    const { channel, violations } = setup({ maxControlBytes: 4000 })
    await activate(channel, roomA)
    channel.receive(chunkOf(1, 1000, true, '@_stream'))
    channel.receive(chunkOf(2, 1000, true, '@_track'))
    channel.receive(chunkOf(3, 1000, true, '@_stream'))
    expect(violations.map((v) => [v.kind, v.actionName])).toEqual([['control-budget', '@_stream']])
  })

  it('charges everything passed while a handshake is pending to maxControlBytes (Trystero keeps @_hsdata then)', () => {
    const { channel, violations, seen } = setup({ maxControlBytes: 4000 })
    channel.send(encodePresenceFrame(roomA, true))
    channel.receive(encodePresenceFrame(roomA, true))
    for (let nonce = 1; nonce <= 3; nonce++) channel.receive(chunkOf(nonce, 1000, true, '@_hsdata'))
    expect(violations.map((v) => [v.kind, v.actionName, v.figure])).toEqual([['control-budget', '@_hsdata', 3 * 1512]])
    expect(seen()).toEqual(['presence', '@_hsdata#1', '@_hsdata#2'])
  })

  it('bounds the room tokens a peer may announce', () => {
    const { channel, violations, delivered } = setup({ maxRemoteRoomTokens: 2, maxRoomTokenBytes: 100 })
    channel.receive(encodePresenceFrame('t1', true))
    channel.receive(encodePresenceFrame('t2', true))
    channel.receive(encodePresenceFrame('t3', true))
    channel.receive(encodePresenceFrame('t1', false))
    channel.receive(encodePresenceFrame('t3', true))
    channel.receive(encodePresenceFrame('x'.repeat(101), true))
    expect(violations.map((v) => [v.kind, v.limitValue, v.figure])).toEqual([['room-token-budget', 2, 3], ['room-token-budget', 100, 101]])
    expect(delivered).toHaveLength(4)
  })

  it('meters rates with a burst, reports once per excess, and lets frames through', async () => {
    const { channel, violations, clock, pc } = setup({ rateLimit: { messagesPerSecond: 10, burstMessages: 20, bytesPerSecond: 1_000_000 } })
    for (let i = 0; i < 25; i++) channel.receive(encodePresenceFrame('t', true))
    expect(violations.map((v) => [v.kind, v.limitValue, v.figure])).toEqual([['rate-messages', 10, 1]])
    clock.advance(1000)
    channel.receive(encodePresenceFrame('t', true))
    expect(violations).toHaveLength(1)
    clock.advance(500)
    for (let i = 0; i < 10; i++) channel.receive(encodePresenceFrame('t', true))
    expect(violations).toHaveLength(2)
    expect(connectionGuard(pc)!.receivedMessages).toBe(36)
  })
})

describe('connection guard: liveness and closing', () => {
  it('records when the last frame came, counts every frame, and throttles activity events', () => {
    const { channel, clock, pc } = setup({ activityIntervalMs: 1000 })
    const guard = connectionGuard(pc)!
    const activity: number[] = []
    guard.on('activity', ({ receivedMessages }) => activity.push(receivedMessages))
    channel.receive(Uint8Array.of(9, 9, 9))
    clock.advance(400)
    channel.receive(frame(roomA, { actionName: 'never-claimed', payload: new Uint8Array(10) }))
    clock.advance(700)
    channel.receive(Uint8Array.of(1))
    expect(guard.lastReceivedAt).toBe(clock.now())
    expect(guard.receivedMessages).toBe(3)
    expect(guard.receivedBytes).toBe(3 + (3 + 64 + actionHeaderBytes + 10) + 1)
    expect(activity).toEqual([1, 3])
  })

  it('close() closes the data channels first, then the connection, and reports why', async () => {
    const { channel, pc } = setup()
    const guard = connectionGuard(pc)!
    const closed: string[] = []
    guard.on('closed', (reason) => closed.push(reason))
    const connectionClosed = new Promise<void>((resolve) => {
      const close = pc.close.bind(pc)
      pc.close = () => { expect(channel.readyState).toBe('closed'); close(); resolve() }
    })
    guard.close('flooded')
    await connectionClosed
    expect(closed).toEqual(['flooded'])
    expect(pc.closeCalls).toBe(1)
    channel.receive(hsready(roomA))
    expect(guard.droppedFrames).toBe(1)
  })
})

describe('guardRtcPolyfill', () => {
  it('gives one class per base and options, returns a guarded class as is, and guards only its own connections', () => {
    const a = guardRtcPolyfill(FakePeerConnection as never, { maxHeldBytes: 5, rateLimit: { bytesPerSecond: 1 } })
    const b = guardRtcPolyfill(FakePeerConnection as never, { rateLimit: { bytesPerSecond: 1 }, maxHeldBytes: 5 })
    const c = guardRtcPolyfill(FakePeerConnection as never, { maxHeldBytes: 6 })
    expect(a).toBe(b)
    expect(c).not.toBe(a)
    expect(guardRtcPolyfill(a)).toBe(a)
    expect(connectionGuard(new FakePeerConnection())).toBeUndefined()
    expect(connectionGuard(new (a as unknown as typeof FakePeerConnection)())).toBeDefined()
  })

  it('throws a TrysteroYjsError where there is no RTCPeerConnection', () => {
    expect(() => guardRtcPolyfill(undefined)).toThrow(/no RTCPeerConnection/)
  })
})
