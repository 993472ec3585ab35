/**
 * The keeper as users run it (`trystero-yjs-keeper`, its own process) with real peers over real
 * WebRTC (node-datachannel on loopback) and the embedded MQTT broker on 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync, truncateSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import * as Y from 'yjs'
import { TrysteroProvider, type TrysteroProviderOptions } from '../../src/index.js'
import { RoomStore, roomStorePath } from '../../src/node/keeper/room-store.js'
import { KeeperProcess, keeperBuilt } from '../support/keeper-process.js'
import { on, until } from '../support/wait.js'
import { useWebRtcFixture } from '../support/webrtc-fixture.js'

const appId = 'trystero-yjs-keeper-test'

describe.skipIf(!keeperBuilt)('keeper: rooms over real WebRTC (run `npm run build` first; `npm test` does)', () => {
  let dir: string
  const keepers: KeeperProcess[] = []
  let lastPeerId = ''
  let roomCounter = 0
  const fixture = useWebRtcFixture('mqtt', {
    last: async () => { await Promise.all(keepers.splice(0).map(async (k) => await k.stop('SIGKILL'))) }
  })

  beforeAll(() => {
    dir = mkdtempSync(joinPath(tmpdir(), 'trystero-yjs-keeper-'))
  })
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  const newRoom = (): string => `room-${++roomCounter}-${Math.random().toString(36).slice(2, 8)}`

  const startKeeper = (rooms: string[], extra: string[] = [], storeDir = dir): KeeperProcess => {
    const keeper = KeeperProcess.start(['--dir', storeDir, '--app-id', appId, '--strategy', 'mqtt', '--relay', fixture.signaling.url,
      '--bind', '127.0.0.1', ...rooms.flatMap((room) => ['--room', room]), ...extra])
    keepers.push(keeper)
    return keeper
  }

  const join = async (roomId: string, doc = new Y.Doc(), options: TrysteroProviderOptions = {}): Promise<TrysteroProvider> => {
    const peer = await fixture.peer(appId)
    lastPeerId = peer.selfId
    return fixture.provider(new TrysteroProvider(doc, roomId, { ...peer.config, joinRoom: peer.joinRoom, ...options }))
  }

  /**
   * Synced with exactly `n` peers that have the document open. Checked on `synced` events only:
   * during a `peers` event that adds a peer, `synced` still reads as before that peer came.
   */
  const syncedWith = async (provider: TrysteroProvider, n: number): Promise<void> => {
    await until(`a provider synced with ${n} peer(s)`, () => provider.synced && provider.peers.length === n,
      [on(provider, 'synced')], 30_000)
  }

  it('a peer writes and leaves; the keeper alone holds the room; a new peer joins and gets the document', async () => {
    const room = newRoom()
    const keeper = startKeeper([room])
    expect(await keeper.ready()).toMatchObject({ rooms: 1 })
    expect(keeper.events('load', room)).toEqual([expect.objectContaining({ reason: 'keep', updates: 0 })])

    // Written before joining: once the keeper reports it synced with A, it has applied A's state.
    const docA = new Y.Doc()
    docA.getText('t').insert(0, 'written by A, who leaves')
    const a = await join(room, docA)
    const joined = await keeper.waitFor('A joins', (l) => l.event === 'join' && l.room === room)
    await keeper.waitFor('the keeper synced with A', (l) => l.event === 'sync' && l.room === room)
    await a.destroy()
    await keeper.waitFor('A leaves', (l) => l.event === 'leave' && l.room === room && l.peer === joined.peer && l.peers === 0)

    // Nobody but the keeper is in the room now.
    const docB = new Y.Doc()
    const b = await join(room, docB)
    await syncedWith(b, 1)
    expect(docB.getText('t').toString()).toBe('written by A, who leaves')
    await b.destroy()
    await keeper.waitFor('B leaves', (l) => l.event === 'leave' && l.room === room && l.peers === 0)
    expect((await keeper.stop('SIGTERM')).code).toBe(0)
    expect(keeper.events('stopped')).toHaveLength(1)

    const again = startKeeper([room])
    await again.ready()
    const docC = new Y.Doc()
    const c = await join(room, docC)
    await syncedWith(c, 1)
    expect(docC.getText('t').toString()).toBe('written by A, who leaves')
  })

  it('unloads a room nobody is in, and loads it again when a peer joins', async () => {
    const room = newRoom()
    const keeper = startKeeper([room], ['--unload-after', '0.2'])
    await keeper.ready()
    const docA = new Y.Doc()
    docA.getText('t').insert(0, 'kept while unloaded')
    const a = await join(room, docA)
    await keeper.waitFor('the keeper synced with A', (l) => l.event === 'sync' && l.room === room)
    await a.destroy()
    const unloaded = keeper.lines.length
    await keeper.waitFor('the room unloaded', (l) => l.event === 'unload' && l.room === room, { after: unloaded })

    const docB = new Y.Doc()
    const b = await join(room, docB)
    await syncedWith(b, 1)
    expect(docB.getText('t').toString()).toBe('kept while unloaded')
    expect(keeper.events('load', room).at(-1)).toMatchObject({ reason: 'peer' })
  })

  it('reports an unreadable store with its room and file, and keeps serving the other rooms', async () => {
    const storeDir = mkdtempSync(joinPath(tmpdir(), 'trystero-yjs-keeper-damaged-'))
    try {
      const [garbage, truncated, healthy] = [newRoom(), newRoom(), newRoom()]
      writeFileSync(roomStorePath(storeDir, garbage), Buffer.alloc(64 * 1024, 'not a database '))
      // A real store of a few hundred pages, cut in half.
      const filler = new Y.Doc()
      filler.getText('t').insert(0, 'x'.repeat(400_000))
      const Database = (await import('better-sqlite3')).default
      const store = RoomStore.open(Database, roomStorePath(storeDir, truncated), truncated)
      store.append(Y.encodeStateAsUpdate(filler))
      store.close()
      truncateSync(roomStorePath(storeDir, truncated), Math.floor(statSync(roomStorePath(storeDir, truncated)).size / 2))

      const keeper = startKeeper([garbage, truncated, healthy], [], storeDir)
      expect(await keeper.ready()).toMatchObject({ rooms: 1 })
      const errors = keeper.events('error')
      expect(errors.map((l) => [l.room, l.path])).toEqual([
        [garbage, roomStorePath(storeDir, garbage)],
        [truncated, roomStorePath(storeDir, truncated)]
      ])
      expect(keeper.events('load').map((l) => l.room)).toEqual([healthy])

      const doc = new Y.Doc()
      doc.getText('t').insert(0, 'the healthy room works')
      await join(healthy, doc)
      await keeper.waitFor('the keeper synced in the healthy room', (l) => l.event === 'sync' && l.room === healthy)
    } finally {
      rmSync(storeDir, { recursive: true, force: true })
    }
  })

  // A wrong password fails at signaling already (Trystero's key is derived from the room's keys);
  // a peer that reaches the keeper through another room's connection meets admission instead
  // (PROTOCOL.md §5), as test/webrtc/private-rooms.test.ts shows for providers.
  it('with --password, refuses a peer with a wrong password and serves one with the right one', async () => {
    const room = newRoom()
    const keeper = startKeeper([room], ['--password', 'right horse'])
    await keeper.ready()
    const joinErrors: string[] = []
    const joinErrorSeen = new Set<() => void>()
    const docW = new Y.Doc()
    const wrong = await join(room, docW, {
      password: 'wrong horse',
      joinCallbacks: { onJoinError: ({ error }) => { joinErrors.push(error); for (const wake of joinErrorSeen) wake() } }
    })
    // Someone saw the password fail: the wrong peer or the keeper, whichever decrypted the other's offer or answer.
    await until('a password failure',
      () => joinErrors.some((e) => /password/.test(e)) || keeper.events('join-error', room).some((l) => /password/.test(String(l.error))),
      [keeper.onLine, (wake) => { joinErrorSeen.add(wake); return () => joinErrorSeen.delete(wake) }], 30_000)

    const docR = new Y.Doc()
    docR.getText('t').insert(0, 'for members only')
    const right = await join(room, docR, { password: 'right horse' })
    await syncedWith(right, 1)
    await keeper.waitFor('the keeper synced with the right peer', (l) => l.event === 'sync' && l.room === room)
    expect(wrong.peers).toEqual([])
    expect(docW.getText('t').toString()).toBe('')
    expect(new Set(keeper.events('join', room).map((l) => l.peer)).size).toBe(1)
  })

  it('two keepers of one room stay silent until a user joins, and never connect to each other', async () => {
    const room = newRoom()
    const spy = await publishSpy(fixture.signaling.url)
    const first = startKeeper([room], [], mkdtempSync(joinPath(dir, 'first-')))
    const second = startKeeper([room], [], mkdtempSync(joinPath(dir, 'second-')))
    await Promise.all([first.ready(), second.ready()])
    // Absence can only be shown over a window: this one holds every announce of a non-passive
    // join (Trystero announces at 0, 233, 533 and 1,333 ms, then every 5.3 s).
    await new Promise((resolve) => setTimeout(resolve, 2000))
    expect(spy.published).toEqual([])

    const user = await join(room, new Y.Doc())
    await until('the user with both keepers', () => user.peers.length === 2, [on(user, 'peers')], 30_000)
    const userId = lastPeerId
    for (const keeper of [first, second]) {
      await keeper.waitFor('the user joining', (l) => l.event === 'join' && l.room === room)
      expect(keeper.events('join').map((l) => l.peer)).toEqual([userId])
    }
    expect(spy.published.length).toBeGreaterThan(0)
    await user.destroy()
    for (const keeper of [first, second]) await keeper.waitFor('the user leaving', (l) => l.event === 'leave' && l.room === room)
    // The room falls dormant again: once the keepers stop announcing, nothing more is published.
    await spy.quietFor(3000, 30_000)
    expect(first.events('join')).toHaveLength(1)
    expect(second.events('join')).toHaveLength(1)
    spy.close()
  })
})

/** Every MQTT publish on the broker, from anyone (a subscriber to `#`). */
const publishSpy = async (url: string): Promise<{ published: string[], quietFor: (ms: number, deadlineMs: number) => Promise<void>, close: () => void }> => {
  const client = mqtt.connect(url)
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject) })
  await client.subscribeAsync('#')
  const published: string[] = []
  let lastAt = Date.now()
  client.on('message', (topic) => { published.push(topic); lastAt = Date.now() })
  return {
    published,
    // Resolves once nothing was published for `ms`: a clock, since what is awaited is an absence.
    quietFor: async (ms, deadlineMs) => await until(`${ms} ms without a publish`, () => Date.now() - lastAt >= ms,
      [(wake) => { const t = setInterval(wake, 100); return () => clearInterval(t) }], deadlineMs),
    close: () => { client.end(true) }
  }
}
