/**
 * The keeper against a real y-websocket server (`@y/websocket-server`'s command, its own
 * process): the `--upstream` bridge both ways and across a restart, and the store's promise —
 * after `kill -9` in the middle of a stream of writes, the restarted keeper serves every update
 * it had passed on (the server is the witness of what the keeper had applied: the keeper writes
 * an update to its store before the y-websocket client, which listens after the store, sends it).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { TrysteroProvider } from '../../src/index.js'
import { KeeperProcess, keeperBuilt } from '../support/keeper-process.js'
import { on, until } from '../support/wait.js'
import { startYWebsocketServer, type YWebsocketServer } from '../support/y-websocket-server.js'
import { useWebRtcFixture } from '../support/webrtc-fixture.js'

const appId = 'trystero-yjs-keeper-upstream-test'

describe.skipIf(!keeperBuilt)('keeper: upstream bridge and kill -9 (run `npm run build` first; `npm test` does)', () => {
  let server: YWebsocketServer
  let dir: string
  const keepers: KeeperProcess[] = []
  let roomCounter = 0
  const fixture = useWebRtcFixture('mqtt', {
    last: async () => { await Promise.all(keepers.splice(0).map(async (k) => await k.stop('SIGKILL'))) }
  })

  beforeAll(async () => {
    server = await startYWebsocketServer()
    dir = mkdtempSync(joinPath(tmpdir(), 'trystero-yjs-keeper-upstream-'))
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const newRoom = (): string => `upstream-${++roomCounter}-${Math.random().toString(36).slice(2, 8)}`

  const startKeeper = (room: string, upstream: boolean): KeeperProcess => {
    const keeper = KeeperProcess.start(['--dir', dir, '--app-id', appId, '--strategy', 'mqtt', '--relay', fixture.signaling.url,
      '--bind', '127.0.0.1', '--room', room, ...(upstream ? ['--upstream', server.url] : [])])
    keepers.push(keeper)
    return keeper
  }

  const joinP2P = async (room: string, doc = new Y.Doc()): Promise<TrysteroProvider> => {
    const peer = await fixture.peer(appId)
    return fixture.provider(new TrysteroProvider(doc, room, { ...peer.config, joinRoom: peer.joinRoom }))
  }

  /** A y-websocket client of the server, as an app on the server side would be. */
  const joinServer = async (room: string, doc = new Y.Doc()): Promise<WebsocketProvider> => {
    const provider = fixture.provider(new WebsocketProvider(server.url, room, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true }))
    await until('the y-websocket client synced', () => provider.synced, [on(provider, 'sync')], 20_000)
    return provider
  }

  /** Synced with exactly `n` peers; on `synced` events only (a `peers` event comes before `synced` is updated). */
  const syncedWith = async (provider: TrysteroProvider, n: number): Promise<void> => {
    await until(`synced with ${n} peer(s)`, () => provider.synced && provider.peers.length === n, [on(provider, 'synced')], 30_000)
  }

  const text = (doc: Y.Doc): string => doc.getText('t').toString()
  const textIncludes = async (doc: Y.Doc, wanted: string): Promise<void> => {
    await until(`the text to include ${JSON.stringify(wanted)}`, () => text(doc).includes(wanted), [on(doc, 'update')], 30_000)
      .catch((error: Error) => { throw new Error(`${error.message}; text: ${JSON.stringify(text(doc))}`) })
  }

  it('an edit in the P2P room reaches a y-websocket client and back, and the bridge survives the keeper restarting', async () => {
    const room = newRoom()
    const keeper = startKeeper(room, true)
    await keeper.ready()
    await keeper.waitFor('the bridge synced', (l) => l.event === 'upstream' && l.room === room && l.synced === true)

    const p2pDoc = new Y.Doc()
    const p2p = await joinP2P(room, p2pDoc)
    const serverDoc = new Y.Doc()
    await joinServer(room, serverDoc)
    await syncedWith(p2p, 1)

    p2pDoc.getText('t').insert(0, '[from the P2P room]')
    await textIncludes(serverDoc, '[from the P2P room]')
    serverDoc.getText('t').insert(0, '[from the server]')
    await textIncludes(p2pDoc, '[from the server]')

    await p2p.destroy()
    expect((await keeper.stop('SIGTERM')).code).toBe(0)
    const restarted = startKeeper(room, true)
    await restarted.ready()
    await restarted.waitFor('the bridge synced again', (l) => l.event === 'upstream' && l.room === room && l.synced === true)
    serverDoc.getText('t').insert(serverDoc.getText('t').length, '[while no browser was there]')

    // A fresh P2P peer: the keeper holds everything, the server's latest edit included.
    const freshDoc = new Y.Doc()
    await joinP2P(room, freshDoc)
    await textIncludes(freshDoc, '[while no browser was there]')
    expect(text(freshDoc)).toBe(text(serverDoc))
    freshDoc.getText('t').insert(0, '[after the restart]')
    await textIncludes(serverDoc, '[after the restart]')
  })

  it('killed with SIGKILL mid-write and restarted, serves every update it had applied', async () => {
    const room = newRoom()
    const keeper = startKeeper(room, true)
    await keeper.ready()
    const writerDoc = new Y.Doc()
    const writer = await joinP2P(room, writerDoc)
    await syncedWith(writer, 1)
    const witnessDoc = new Y.Doc()
    await joinServer(room, witnessDoc)
    const witnessed = witnessDoc.getArray<number>('log')

    // One update per item, as fast as the writer's event loop allows, until the kill.
    let written = 0
    let writing = true
    const writeLoop = (async () => {
      while (writing) {
        writerDoc.getArray<number>('log').push([written++])
        await new Promise((resolve) => setImmediate(resolve))
      }
    })()
    await until('the server to have 300 items from the keeper', () => witnessed.length >= 300, [on(witnessDoc, 'update')], 30_000)
    expect((await keeper.stop('SIGKILL')).signal).toBe('SIGKILL')
    writing = false
    await writeLoop
    await writer.destroy()

    // Restarted without the bridge: what it serves comes from its store alone.
    const restarted = startKeeper(room, false)
    expect(await restarted.ready()).toMatchObject({ rooms: 1 })
    const readerDoc = new Y.Doc()
    const reader = await joinP2P(room, readerDoc)
    await syncedWith(reader, 1)
    const served = readerDoc.getArray<number>('log').toArray()
    const witness = witnessed.toArray()
    // In order and without a gap (one writer, one item per update), and all the server had.
    expect(served).toEqual([...served.keys()])
    expect(served.length).toBeGreaterThanOrEqual(witness.length)
    expect(served.slice(0, witness.length)).toEqual(witness)
    // The kill did land mid-stream: the writer had written more than the keeper got to keep.
    expect(written).toBeGreaterThan(witness.length)
  })
})
