/**
 * Compact sync (PROTOCOL.md §3.7) over the memory network: negotiated in HELLO, used between peers
 * that both announce it, never sent to a peer that does not (this version with the feature off,
 * or a version 1 peer), each peer's messages kept in order around compression, and a compact
 * message's limits enforced like any other.
 */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import { TrysteroProvider, TrysteroYjsError, deriveRoomKeys, docChannelKey, type TrysteroProviderOptions } from '../../src/index.js'
import { deflateRaw } from '../../src/compact/deflate-raw.js'
import { decodeFrame, encodeFrame, type DocMessage } from '../../src/protocol/doc-messages.js'
import { decodeRoomMessage, encodeRoomMessage, features, protocolVersion, roomChannelName } from '../../src/protocol/room-messages.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import type { MemoryDelivery } from '../../src/testing/index.js'
import { gcRunV2 } from '../support/craft-update.js'
import { appId, createMemoryMesh, type MemoryMesh } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

const docAction = docChannelKey('')

/** About `bytes` of varied text (compresses, but not to nothing). */
const prose = (bytes: number, seed = 1): string => {
  const words = ['sync', 'peer', 'document', 'yjs', 'state', 'vector', 'update', 'room', 'trystero', 'compact', 'deflate', 'order']
  let state = seed
  let text = ''
  while (text.length < bytes) {
    state = (state * 1103515245 + 12345) % 2147483648
    text += `${words[state % words.length]!}${state % 7 === 0 ? '. ' : ' '}`
  }
  return text
}

/** Every document-channel payload delivered, with its frame decoded. */
const recordFrames = (mesh: MemoryMesh): Array<MemoryDelivery & { messages: DocMessage[] }> => {
  const frames: Array<MemoryDelivery & { messages: DocMessage[] }> = []
  mesh.network.observeDeliveries((delivery) => {
    if (delivery.action === docAction) frames.push({ ...delivery, messages: decodeFrame(delivery.payload as Uint8Array).messages })
  })
  return frames
}

const hellos = (mesh: MemoryMesh): Array<{ from: string, to: string, features: number }> => {
  const seen: Array<{ from: string, to: string, features: number }> = []
  mesh.network.observeDeliveries(({ from, to, action, payload }) => {
    if (action !== roomChannelName) return
    const message = decodeRoomMessage(payload as Uint8Array)
    if (message?.type === 'hello') seen.push({ from, to, features: message.features })
  })
  return seen
}

/** A HELLO as version 1 writes it: no `features` field at all. */
const helloVersion1 = (channels: string[]): Uint8Array => {
  const encoder = encoding.createEncoder()
  for (const n of [0, protocolVersion, 0, channels.length]) encoding.writeVarUint(encoder, n)
  for (const channel of channels) encoding.writeVarString(encoder, channel)
  return encoding.toUint8Array(encoder)
}

/**
 * A peer joined with raw Trystero calls that announces the main document with the HELLO given,
 * and records the frames it receives.
 */
const joinRaw = (mesh: MemoryMesh, hello: Uint8Array) => {
  const peer = mesh.network.createPeer()
  const room: TrysteroRoom = peer.joinRoom({ appId }, 'room')
  const doc = room.makeAction(docAction)
  const control = room.makeAction(roomChannelName)
  const received: Uint8Array[] = []
  doc.onMessage = (data) => { received.push(data as Uint8Array) }
  const joined = new Promise<string>((resolve) => {
    room.onPeerJoin = (peerId) => {
      void control.send(hello, { target: peerId })
      resolve(peerId)
    }
  })
  return { peer, room, doc, received, joined }
}

const helloCompact = encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [docAction], features: features.heartbeat | features.compactSync })

describe('compact sync over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  /** Provider A, synced alone, then a raw peer announcing compactSync (`victim`: A's id), once A lists it. */
  const providerWithRawPeer = async (options: TrysteroProviderOptions = {}) => {
    const a = mesh.add('room', { peerHelloTimeout: 100, ...options })
    await a.provider.whenSynced()
    const raw = joinRaw(mesh, helloCompact)
    const victim = await raw.joined
    await until('A sees the raw peer', () => a.provider.peers.length === 1, [on(a.provider, 'peers')])
    return { a, raw, victim }
  }

  /** A holds a short text, synced alone; then B (with `bOptions`) joins with nothing and converges. */
  const heldByAThenFreshB = async (bOptions: TrysteroProviderOptions = {}) => {
    const a = mesh.add()
    a.doc.getText('t').insert(0, 'held by A')
    await a.provider.whenSynced()
    const b = mesh.add('room', bOptions)
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    return { a, b }
  }

  it('announces compactSync, and sends a big step 2 between two such peers as one compressed compact message', async () => {
    const frames = recordFrames(mesh)
    const announced = hellos(mesh)
    const a = mesh.add()
    a.doc.getText('t').insert(0, prose(40_000))
    await a.provider.whenSynced()
    const b = mesh.add()
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    expect(announced.length).toBeGreaterThanOrEqual(2)
    for (const hello of announced) expect(hello.features & features.compactSync).toBe(features.compactSync)
    const step2 = frames.filter((f) => f.from === a.peer.selfId).flatMap((f) => f.messages).filter((m) => m.type === 'compact' || m.type === 'sync-step2')
    expect(step2).toHaveLength(1)
    const [message] = step2
    expect(message).toMatchObject({ type: 'compact', syncType: 'sync-step2', compressed: true })
    const v1Bytes = Y.encodeStateAsUpdate(a.doc).byteLength
    expect(message?.type === 'compact' && message.payload.byteLength).toBeLessThan(v1Bytes / 2)
    expect(b.provider.trafficWith(a.peer.selfId).bytesReceived).toBeLessThan(v1Bytes / 2)
  })

  it('answers the state vector a compact peer\'s HELLO carries at once, one trip before its step 1 would be, and only once', async () => {
    const frames = recordFrames(mesh)
    const { a, b } = await heldByAThenFreshB()
    await mesh.network.settle()
    const step2 = frames.filter((f) => f.from === a.peer.selfId && f.messages.some((m) => m.type === 'sync-step2'))
    const step1 = frames.find((f) => f.from === b.peer.selfId && f.messages.some((m) => m.type === 'sync-step1'))!
    expect(step2).toHaveLength(1)
    // Sent when B's HELLO arrived, as B's step 1 left: both arrive in the same instant.
    expect(step2[0]!.time).toBeLessThanOrEqual(step1.time)
  })

  it('answers from an empty document with Yjs\'s empty update, which the holder takes as its step 2', async () => {
    const frames = recordFrames(mesh)
    const { a, b } = await heldByAThenFreshB()
    await until('A synced with B', () => a.provider.synced, [on(a.provider, 'synced')])
    const answers = frames.filter((f) => f.from === b.peer.selfId).flatMap((f) => f.messages).filter((m) => m.type === 'sync-step2')
    expect(answers).toHaveLength(1)
    expect(answers[0]).toEqual({ type: 'sync-step2', update: Y.encodeStateAsUpdate(new Y.Doc()) })
  })

  it('answers on step 1 only, as version 1 does, with a peer that has compactSync: false', async () => {
    const frames = recordFrames(mesh)
    const announced = hellos(mesh)
    const { a, b } = await heldByAThenFreshB({ compactSync: false })
    await mesh.network.settle()
    const step2 = frames.filter((f) => f.from === a.peer.selfId && f.messages.some((m) => m.type === 'sync-step2'))
    const step1 = frames.find((f) => f.from === b.peer.selfId && f.messages.some((m) => m.type === 'sync-step1'))!
    expect(step2).toHaveLength(1)
    expect(step2[0]!.time).toBeGreaterThan(step1.time)
    expect(announced.filter((h) => h.from === b.peer.selfId).every((h) => h.features === features.heartbeat)).toBe(true)
  })

  it('sends what is small as today: a small step 2 and keystrokes stay y-protocols V1 messages', async () => {
    const frames = recordFrames(mesh)
    const a = mesh.add()
    a.doc.getText('t').insert(0, 'short')
    const b = mesh.add()
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    for (let i = 0; i < 20; i++) b.doc.getText('t').insert(0, 'k')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    const types = frames.flatMap((f) => f.messages.map((m) => m.type))
    expect(types).toContain('sync-step2')
    expect(types).toContain('sync-update')
    expect(types).not.toContain('compact')
  })

  it('sends nothing compact to, and receives nothing compact from, a peer with compactSync: false; both sync big documents both ways', async () => {
    const frames = recordFrames(mesh)
    const announced = hellos(mesh)
    const a = mesh.add()
    a.doc.getText('t').insert(0, prose(30_000, 1))
    const b = mesh.add('room', { compactSync: false })
    b.doc.getText('u').insert(0, prose(30_000, 2))
    await converged([a.doc, b.doc], (d) => `${d.getText('t').toString()}|${d.getText('u').toString()}`)
    // A paste, after the initial sync: an update big enough for compaction.
    a.doc.getText('t').insert(0, prose(10_000, 3))
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    expect(announced.find((h) => h.from === b.peer.selfId)?.features).toBe(features.heartbeat)
    expect(frames.length).toBeGreaterThan(2)
    expect(frames.flatMap((f) => f.messages).filter((m) => m.type === 'compact')).toEqual([])
  })

  it('with compactSync: false, inflates and applies no compact message, even from a peer that announces the feature', async () => {
    const { a, raw, victim } = await providerWithRawPeer({ compactSync: false })
    const source = new Y.Doc()
    source.getText('t').insert(0, prose(5_000))
    const v2 = Y.encodeStateAsUpdateV2(source)
    const error = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
    void raw.doc.send(encodeFrame([{ type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: v2.byteLength, payload: await deflateRaw(v2) }]), { target: victim })
    const [refused] = await error
    expect(refused).toMatchObject({ peerId: raw.peer.selfId, messageType: 'compact sync-update' })
    expect(refused.message).toMatch(/compactSync/)
    await mesh.network.settle()
    expect(a.doc.getText('t').toString()).toBe('')
    // What it sends as version 1 defines is still taken.
    void raw.doc.send(encodeFrame([{ type: 'sync-update', update: Y.encodeStateAsUpdate(source) }]), { target: victim })
    await until('the V1 update is in', () => a.doc.getText('t').length > 0, [on(a.doc, 'update')])
  })

  it('speaks only version 1 to a version 1 peer (a HELLO without features), while compacting for a compact peer in the same room', async () => {
    const a = mesh.add()
    a.doc.getText('t').insert(0, prose(30_000))
    await a.provider.whenSynced()
    const c = mesh.add()
    await converged([a.doc, c.doc], (d) => d.getText('t').toString())
    const frames = recordFrames(mesh)
    const old = joinRaw(mesh, helloVersion1([docAction]))
    await old.joined
    // What a version 1 peer reads with y-protocols: A's step 1 and step 2, then A's updates.
    const replica = new Y.Doc()
    const readAll = (): void => {
      for (const frame of old.received.splice(0)) {
        const decoder = decoding.createDecoder(frame)
        while (decoding.hasContent(decoder)) {
          const type = decoding.readVarUint(decoder)
          expect(type === 0 || type === 1).toBe(true)
          if (type === 0) syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), replica, 'a')
          else decoding.readVarUint8Array(decoder)
        }
      }
    }
    const ask = encoding.createEncoder()
    encoding.writeVarUint(ask, 0)
    syncProtocol.writeSyncStep1(ask, replica)
    void old.doc.send(encoding.toUint8Array(ask), { target: a.peer.selfId })
    await mesh.network.settle()
    readAll()
    expect(replica.getText('t').toString()).toBe(a.doc.getText('t').toString())
    // A paste goes compact to C and as a V1 update to the old peer.
    a.doc.getText('t').insert(0, prose(10_000, 5))
    await converged([a.doc, c.doc], (d) => d.getText('t').toString())
    await mesh.network.settle()
    readAll()
    expect(replica.getText('t').toString()).toBe(a.doc.getText('t').toString())
    const toOld = frames.filter((f) => f.to === old.peer.selfId).flatMap((f) => f.messages.map((m) => m.type))
    const toC = frames.filter((f) => f.to === c.peer.selfId).flatMap((f) => f.messages.map((m) => m.type))
    expect(toOld).toContain('sync-step2')
    expect(toOld).toContain('sync-update')
    expect(toOld).not.toContain('compact')
    expect(toC).toContain('compact')
  })

  it('keeps a peer\'s order on the way out: an edit made while its step 2 is being compressed arrives after it', async () => {
    const frames = recordFrames(mesh)
    const a = mesh.add()
    a.doc.getText('t').insert(0, prose(40_000))
    await a.provider.whenSynced()
    // Right after A handled B's step 1 (its compressed answer is under way), A types.
    const stop = mesh.network.observeDeliveries(({ to, action, payload }) => {
      if (to !== a.peer.selfId || action !== docAction) return
      if (!decodeFrame(payload as Uint8Array).messages.some((m) => m.type === 'sync-step1')) return
      stop()
      // Once A has handled it (this listener runs just before), well before a stream's output.
      queueMicrotask(() => {
        // The race this test is about: the compact step 2 to B is not out yet.
        compactOutBeforeTyping = frames.some((f) => f.from === a.peer.selfId && f.messages.some((m) => m.type === 'compact'))
        a.doc.getText('t').insert(0, 'typed while compressing ')
      })
    })
    let compactOutBeforeTyping: boolean | null = null
    const b = mesh.add()
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    expect(compactOutBeforeTyping).toBe(false)
    const fromA = frames.filter((f) => f.from === a.peer.selfId && f.to === b.peer.selfId).flatMap((f) => f.messages.map((m) => m.type))
    const step2 = fromA.indexOf('compact')
    const edit = fromA.indexOf('sync-update')
    expect(step2).toBeGreaterThanOrEqual(0)
    expect(edit).toBeGreaterThan(step2)
  })

  it('keeps a peer\'s order on the way in: its message after a compact step 2 is handled once the step 2 is in', async () => {
    const { a, raw, victim } = await providerWithRawPeer()
    const source = new Y.Doc()
    source.getText('t').insert(0, prose(50_000))
    const v2 = Y.encodeStateAsUpdateV2(source)
    const payload = await deflateRaw(v2)
    // A forged follow-up that the check refuses: its error is A's handling of the second message.
    const refused = encodeFrame([{ type: 'sync-update', update: Uint8Array.of(1, 1, 5, 0, 0x84, 5, 5, 1, 0x61, 0) }])
    const textWhenRefused = new Promise<string>((resolve) => {
      a.provider.on('error', (error: TrysteroYjsError) => { if (/refused/.test(error.message)) resolve(a.doc.getText('t').toString()) })
    })
    void raw.doc.send(encodeFrame([{ type: 'compact', syncType: 'sync-step2', compressed: true, updateBytes: v2.byteLength, payload }]), { target: victim })
    void raw.doc.send(refused, { target: victim })
    expect(await textWhenRefused).toBe(source.getText('t').toString())
  })

  it('reports a step 2 it cannot encode, and answers that peer\'s next step 1 again (no unhandled rejection, no peer left unanswerable)', async () => {
    // A document Yjs cannot write in V1 (the app set a format to undefined before the provider
    // listened): encoding any step 2 for a V1 peer, or converting a small V2 one, throws.
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'abc')
    doc.getText('t').format(0, 1, { bold: undefined })
    expect(() => Y.encodeStateAsUpdate(doc)).toThrow()
    const peer = mesh.network.createPeer()
    const a = mesh.track(new TrysteroProvider(doc, 'room', { appId, joinRoom: peer.joinRoom }))
    await a.whenSynced()
    const failures: TrysteroYjsError[] = []
    a.on('error', (error: TrysteroYjsError) => { if (/answering/.test(error.message)) failures.push(error) })
    const b = mesh.add()
    await until('A reports it could not answer B', () => failures.length === 1, [on(a, 'error')])
    expect(failures[0]).toMatchObject({ peerId: b.peer.selfId, messageType: 'sync-step2' })
    await mesh.network.settle()
    expect(failures).toHaveLength(1)
    b.provider.resync()
    await until('A tries again on B\'s next step 1', () => failures.length === 2, [on(a, 'error')])
  })

  it('refuses a viewer\'s compact step 2 and update, compressed or not, as its V1 ones', async () => {
    const password = 'correct horse battery staple'
    const { viewKey } = await deriveRoomKeys(password, { appId, roomId: 'room' })
    const writer = mesh.add('room', { password })
    writer.doc.getText('t').insert(0, 'published')
    const viewer = mesh.add('room', { viewKey })
    await until('viewer synced', () => viewer.provider.synced && viewer.doc.getText('t').toString() === 'published', [on(viewer.provider, 'synced'), on(viewer.doc, 'update')])
    const defaced = new Y.Doc()
    defaced.getText('t').insert(0, prose(5_000))
    const v2 = Y.encodeStateAsUpdateV2(defaced)
    const refusals: TrysteroYjsError[] = []
    writer.provider.on('error', (error: TrysteroYjsError) => { if (/update from a viewer refused/.test(error.message)) refusals.push(error) })
    const action = viewer.provider.room!.makeAction(docAction)
    void action.send(encodeFrame([
      { type: 'compact', syncType: 'sync-step2', compressed: true, updateBytes: v2.byteLength, payload: await deflateRaw(v2) },
      { type: 'compact', syncType: 'sync-update', compressed: false, updateBytes: v2.byteLength, payload: v2 }
    ]), { target: writer.peer.selfId })
    await until('both refused', () => refusals.length === 2, [on(writer.provider, 'error')])
    expect(refusals.map((e) => e.peerId)).toEqual([viewer.peer.selfId, viewer.peer.selfId])
    expect(writer.doc.getText('t').toString()).toBe('published')
  })

  it('a peer that leaves while its step 2 is being compressed is sent nothing after, and nothing fails', async () => {
    const frames = recordFrames(mesh)
    const a = mesh.add()
    a.doc.getText('t').insert(0, prose(60_000))
    await a.provider.whenSynced()
    const errors: TrysteroYjsError[] = []
    a.provider.on('error', (error: TrysteroYjsError) => errors.push(error))
    const b = mesh.add()
    // B's HELLO carried its state vector: A's compact answer is being compressed when B shows up.
    await until('A sees B', () => a.provider.peers.length === 1, [on(a.provider, 'peers')])
    const sentBefore = frames.filter((f) => f.to === b.peer.selfId).length
    // The race this test is about: B leaves before its compact answer is out.
    expect(frames.some((f) => f.to === b.peer.selfId && f.messages.some((m) => m.type === 'compact'))).toBe(false)
    await b.provider.destroy()
    await until('B gone at A', () => Object.keys(a.provider.room!.getPeers()).length === 0, [on(a.provider, 'peers')])
    await mesh.network.settle()
    // Typing goes on for everyone else; nothing reaches B any more.
    a.doc.getText('t').insert(0, prose(5_000, 9))
    await mesh.network.settle()
    const c = mesh.add()
    await converged([a.doc, c.doc], (d) => d.getText('t').toString())
    expect(frames.filter((f) => f.to === b.peer.selfId).length).toBe(sentBefore)
    expect(errors).toEqual([])
  })

  it('answers a peer that closes and reopens the document again and again as one that asks again: one whole state in flight, the next one spaced', async () => {
    const a = mesh.add()
    a.doc.getText('t').insert(0, prose(40_000))
    await a.provider.whenSynced()
    const raw = joinRaw(mesh, helloCompact)
    const target = await raw.joined
    await until('A lists the raw peer', () => a.provider.peers.length === 1, [on(a.provider, 'peers')])
    // Each OPEN carries an empty state vector (PROTOCOL.md §3.3): a request for the whole document.
    const answers: DocMessage[] = []
    const arrived = new Set<() => void>()
    raw.doc.onMessage = (data) => {
      for (const m of decodeFrame(data as Uint8Array).messages) if (m.type === 'sync-step2' || (m.type === 'compact' && m.syncType === 'sync-step2')) answers.push(m)
      for (const wake of arrived) wake()
    }
    const control = raw.room.makeAction(roomChannelName)
    for (let i = 0; i < 50; i++) {
      void control.send(encodeRoomMessage({ type: 'close', channel: docAction }), { target })
      void control.send(encodeRoomMessage({ type: 'open', channel: docAction, stateVector: Y.encodeStateVector(new Map()) }), { target })
    }
    await until('two answers arrived', () => answers.length >= 2, [(wake) => { arrived.add(wake); return () => arrived.delete(wake) }])
    await mesh.network.settle()
    // Fifty reopenings ask what one peer asking fifty times asks: the answer on its way, then the latest.
    expect(answers).toHaveLength(2)
  })

  describe('limits of a compact message', () => {
    const joinCompactRaw = async (limits: Record<string, number> = {}) => {
      const { a, raw, victim } = await providerWithRawPeer({ limits })
      const send = (message: DocMessage): void => { void raw.doc.send(encodeFrame([message]), { target: victim }) }
      return { a, raw, send }
    }
    const disconnected = async (a: ReturnType<MemoryMesh['add']>): Promise<void> => {
      await mesh.network.settle()
      expect(Object.keys(a.provider.room!.getPeers())).toEqual([])
    }

    it('disconnects a peer announcing an update over maxMessageBytes, without inflating anything', async () => {
      const { a, raw, send } = await joinCompactRaw({ maxMessageBytes: 1024 * 1024 })
      const error = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
      send({ type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 2 * 1024 * 1024, payload: Uint8Array.of(3, 0) })
      expect((await error)[0]).toMatchObject({ peerId: raw.peer.selfId, limit: 'maxMessageBytes', limitValue: 1024 * 1024, figure: 2 * 1024 * 1024 })
      await disconnected(a)
    })

    it('drops what a peer it disconnects sent before, still waiting behind an inflation; a peer that leaves in peace keeps it', async () => {
      const edits = async (seed: number): Promise<DocMessage[]> => {
        const source = new Y.Doc()
        source.getText('t').insert(0, prose(5_000, seed))
        const v2 = Y.encodeStateAsUpdateV2(source)
        const small = new Y.Doc()
        small.getText('u').insert(0, `typed ${seed}`)
        return [
          { type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: v2.byteLength, payload: await deflateRaw(v2) },
          // Behind the inflation above.
          { type: 'sync-update', update: Y.encodeStateAsUpdate(small) }
        ]
      }
      const { a, raw } = await joinCompactRaw({ maxMessageBytes: 1024 * 1024 })
      const error = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
      const over: DocMessage = { type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 2 * 1024 * 1024, payload: Uint8Array.of(3, 0) }
      void raw.doc.send(encodeFrame([...await edits(1), over]), { target: a.peer.selfId })
      expect((await error)[0]).toMatchObject({ peerId: raw.peer.selfId, limit: 'maxMessageBytes' })
      await disconnected(a)
      // The same two, from a peer that then closes the document (CLOSE right behind them), are in;
      // by then the first peer's inflation, begun long before, is over too.
      const peaceful = joinRaw(mesh, helloCompact)
      const target = await peaceful.joined
      await until('A lists the second raw peer', () => a.provider.peers.length === 1, [on(a.provider, 'peers')])
      void peaceful.doc.send(encodeFrame(await edits(2)), { target })
      void peaceful.room.makeAction(roomChannelName).send(encodeRoomMessage({ type: 'close', channel: docAction }), { target })
      await until('both edits are in', () => a.doc.getText('u').toString().includes('typed 2') && a.doc.getText('t').toString().includes(prose(5_000, 2)), [on(a.doc, 'update')])
      expect(a.provider.peers).toEqual([])
      expect(a.doc.getText('u').toString()).toBe('typed 2')
      expect(a.doc.getText('t').toString()).toBe(prose(5_000, 2))
    })

    it('applies nothing that a peer it disconnects sent before and that still waits behind an inflation, also when that peer never opened the document', async () => {
      const a = mesh.add('room', { peerHelloTimeout: 100, limits: { maxMessageBytes: 1024 * 1024 } })
      await a.provider.whenSynced()
      // Compact, with no channel open: its document frames reach A all the same.
      const raw = joinRaw(mesh, encodeRoomMessage({ type: 'hello', version: protocolVersion, replyRequested: false, channels: [], features: features.heartbeat | features.compactSync }))
      const target = await raw.joined
      const small = new Y.Doc()
      small.getText('u').insert(0, 'sent by a peer refused')
      const errors: TrysteroYjsError[] = []
      a.provider.on('error', (error: TrysteroYjsError) => errors.push(error))
      void raw.doc.send(encodeFrame([
        // Not deflate-raw: said once its inflation is over, which is how this test knows.
        { type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 100, payload: Uint8Array.of(0xff, 0xff, 0xff) },
        // Behind the inflation above; then the peer breaks a limit.
        { type: 'sync-update', update: Y.encodeStateAsUpdate(small) },
        { type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 2 * 1024 * 1024, payload: Uint8Array.of(3, 0) }
      ]), { target })
      await until('the refused peer\'s inflation is over', () => errors.some((e) => /not deflate-raw/.test(e.message)), [on(a.provider, 'error')])
      await mesh.network.settle()
      expect(errors[0]).toMatchObject({ peerId: raw.peer.selfId, limit: 'maxMessageBytes' })
      expect(Object.keys(a.provider.room!.getPeers())).toEqual([])
      expect(a.doc.getText('u').toString()).toBe('')
    })

    it('stops a zip bomb at the size it announced and disconnects its sender', async () => {
      const { a, raw, send } = await joinCompactRaw()
      const bomb = await deflateRaw(new Uint8Array(16 * 1024 * 1024))
      const error = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
      send({ type: 'compact', syncType: 'sync-step2', compressed: true, updateBytes: 4096, payload: bomb })
      const [refused] = await error
      expect(refused).toMatchObject({ peerId: raw.peer.selfId, messageType: 'compact sync-step2' })
      expect(refused.message).toMatch(/inflates past the 4096 bytes it announced/)
      expect(refused.figure).toBeLessThan(1024 * 1024)
      await disconnected(a)
    })

    it('disconnects a peer whose V2 update announces more structs than maxMessageBytes of V1 could hold', async () => {
      const { a, raw, send } = await joinCompactRaw({ maxMessageBytes: 1024 * 1024 })
      // 24 bytes of V2 announcing a million GC structs (test/unit/update-check-v2.test.ts writes the same).
      const bomb = gcRunV2(1_000_000, 1)
      const error = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
      send({ type: 'compact', syncType: 'sync-update', compressed: false, updateBytes: bomb.byteLength, payload: bomb })
      expect((await error)[0]).toMatchObject({ peerId: raw.peer.selfId, limit: 'maxMessageBytes', limitValue: 1024 * 1024, figure: 2_000_000 })
      expect(a.doc.store.clients.size).toBe(0)
      await disconnected(a)
    })

    it('counts the inflated bytes against the peer\'s byte rate', async () => {
      const { a, raw, send } = await joinCompactRaw({ maxMessageBytes: 256 * 1024, maxBytesPerSecond: 16 * 1024 })
      const source = new Y.Doc()
      source.getText('t').insert(0, prose(100_000))
      const v2 = Y.encodeStateAsUpdateV2(source)
      const payload = await deflateRaw(v2)
      expect(payload.byteLength).toBeLessThan(16 * 1024)
      const error = nextEvent<[TrysteroYjsError]>(a.provider, 'error', (e) => e.limit !== undefined)
      for (let i = 0; i < 3; i++) send({ type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: v2.byteLength, payload })
      expect((await error)[0]).toMatchObject({ peerId: raw.peer.selfId, limit: 'maxBytesPerSecond', limitValue: 16 * 1024 })
      await disconnected(a)
    })

    it('counts each compact message of a frame as a message: a frame of many tiny ones disconnects its sender', async () => {
      const { a, raw } = await joinCompactRaw({ maxMessagesPerSecond: 10 })
      const errors: TrysteroYjsError[] = []
      a.provider.on('error', (error: TrysteroYjsError) => errors.push(error))
      // A stored block announcing 65,535 bytes and holding 4: a stream that ends short, 9 bytes each.
      const stalled: DocMessage = { type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 100, payload: Uint8Array.of(0, 0xff, 0xff, 0, 0, 1, 2, 3, 4) }
      void raw.doc.send(encodeFrame(Array.from({ length: 500 }, () => stalled)), { target: a.peer.selfId })
      await disconnected(a)
      await until('the message being inflated when it was refused is done', () => errors.some((e) => /malformed/.test(e.message)), [on(a.provider, 'error')])
      expect(errors.find((e) => e.limit !== undefined)).toMatchObject({ peerId: raw.peer.selfId, limit: 'maxMessagesPerSecond', limitValue: 10 })
      // Only messages within its burst (twice the rate, less the frame itself) were admitted; of
      // those, only the one under way when it was refused was inflated: the rest were dropped with it.
      await mesh.network.settle()
      expect(errors.filter((e) => /malformed/.test(e.message)).length).toBeLessThan(20)
      expect(errors.filter((e) => /malformed/.test(e.message))).toHaveLength(1)
    })

    it('drops a payload that is not deflate-raw as a malformed message, and keeps the peer', async () => {
      const { a, raw, send } = await joinCompactRaw()
      const error = nextEvent<[TrysteroYjsError]>(a.provider, 'error')
      send({ type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 100, payload: Uint8Array.of(0xff, 0xff, 0xff) })
      const [dropped] = await error
      expect(dropped).toMatchObject({ peerId: raw.peer.selfId, messageType: 'compact sync-update' })
      expect(dropped.message).toMatch(/malformed message dropped: compact message payload is not deflate-raw/)
      // Its next message is handled.
      const source = new Y.Doc()
      source.getText('t').insert(0, 'after')
      send({ type: 'sync-update', update: Y.encodeStateAsUpdate(source) })
      await until('the next update is in', () => a.doc.getText('t').toString() === 'after', [on(a.doc, 'update')])
      expect(Object.keys(a.provider.room!.getPeers())).toEqual([raw.peer.selfId])
    })
  })
})

