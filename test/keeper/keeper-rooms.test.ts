/**
 * The keeper as users run it (`trystero-yjs-keeper`, its own process) with real peers over real
 * WebRTC (node-datachannel on loopback) and the embedded MQTT broker on 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync, truncateSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider, type TrysteroProviderOptions } from '../../src/index.js'
import { RoomStore, roomStorePath } from '../../src/node/keeper/room-store.js'
import { KeeperProcess, keeperBuilt } from '../support/keeper-process.js'
import { closeAllConnections, createTrysteroPeer, startSignaling, type Signaling, type TrysteroPeer } from '../support/trystero-peer.js'
import { on, until } from '../support/wait.js'

const appId = 'trystero-yjs-keeper-test'

describe.skipIf(!keeperBuilt)('keeper: rooms over real WebRTC (run `npm run build` first; `npm test` does)', () => {
  let signaling: Signaling
  let dir: string
  let keepers: KeeperProcess[] = []
  let peers: TrysteroPeer[] = []
  let providers: TrysteroProvider[] = []
  let roomCounter = 0

  beforeAll(async () => {
    signaling = await startSignaling('mqtt')
    dir = mkdtempSync(joinPath(tmpdir(), 'trystero-yjs-keeper-'))
  })
  afterEach(async () => {
    await Promise.all(providers.map(async (p) => await p.destroy()))
    await Promise.all(keepers.map(async (k) => await k.stop('SIGKILL')))
    for (const peer of peers) peer.closeRelays()
    await closeAllConnections()
    providers = []
    keepers = []
    peers = []
  })
  afterAll(async () => {
    await signaling.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const newRoom = (): string => `room-${++roomCounter}-${Math.random().toString(36).slice(2, 8)}`

  const startKeeper = (rooms: string[], extra: string[] = [], storeDir = dir): KeeperProcess => {
    const keeper = KeeperProcess.start(['--dir', storeDir, '--app-id', appId, '--strategy', 'mqtt', '--relay', signaling.url,
      '--bind', '127.0.0.1', ...rooms.flatMap((room) => ['--room', room]), ...extra])
    keepers.push(keeper)
    return keeper
  }

  const join = async (roomId: string, doc = new Y.Doc(), options: TrysteroProviderOptions = {}): Promise<TrysteroProvider> => {
    const peer = await createTrysteroPeer(signaling, appId)
    peers.push(peer)
    const provider = new TrysteroProvider(doc, roomId, { ...peer.config, joinRoom: peer.joinRoom, ...options })
    providers.push(provider)
    return provider
  }

  const leave = async (provider: TrysteroProvider): Promise<void> => {
    await provider.destroy()
    providers = providers.filter((p) => p !== provider)
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
    await leave(a)
    await keeper.waitFor('A leaves', (l) => l.event === 'leave' && l.room === room && l.peer === joined.peer && l.peers === 0)

    // Nobody but the keeper is in the room now.
    const docB = new Y.Doc()
    const b = await join(room, docB)
    await syncedWith(b, 1)
    expect(docB.getText('t').toString()).toBe('written by A, who leaves')
    await leave(b)
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
    await leave(a)
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
})
