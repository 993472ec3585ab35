/** The room store and the document bound to it: real SQLite files in a temporary directory. */
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { KeeperError } from '../../src/node/index.js'
import { RoomStore, roomStoreFileName, roomStorePath } from '../../src/node/keeper/room-store.js'
import { StoredDoc, defaultCompaction, type CompactionPolicy } from '../../src/node/keeper/stored-doc.js'

const dir = mkdtempSync(join(tmpdir(), 'trystero-yjs-room-store-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let counter = 0
const freshPath = (): string => join(dir, `store-${++counter}.sqlite3`)

type Reports = Array<[string, KeeperError]>
const load = (path: string, roomId = 'room', policy: CompactionPolicy = defaultCompaction): { stored: StoredDoc, reports: Reports, updates: number } => {
  const reports: Reports = []
  const { stored, stats } = StoredDoc.load(RoomStore.open(Database, path, roomId), policy, (kind, error) => reports.push([kind, error]))
  return { stored, reports, updates: stats.updates }
}

/** Resolves after the compaction a StoredDoc queues with setImmediate. */
const afterQueuedWork = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

describe('room store files', () => {
  it('names a file after its room, readable and unique', () => {
    expect(roomStoreFileName('my-room')).toMatch(/^my-room-[0-9a-f]{16}\.sqlite3$/)
    expect(roomStoreFileName('a/b c')).toMatch(/^a_b_c-[0-9a-f]{16}\.sqlite3$/)
    expect(roomStoreFileName('a/b c')).not.toBe(roomStoreFileName('a_b_c'))
    expect(roomStorePath('/data', 'x')).toBe(`/data/${roomStoreFileName('x')}`)
  })

  it('stores every update as it is applied, and a reopened store gives the same document', async () => {
    const path = freshPath()
    const { stored } = load(path)
    const text = stored.doc.getText('t')
    for (const word of ['one ', 'two ', 'three']) text.insert(text.length, word)
    // Committed already: another connection sees the rows before the first closes.
    expect(stored.stats().updates).toBe(3)
    stored.close()
    const again = load(path)
    expect(again.updates).toBe(1)
    expect(again.stored.doc.getText('t').toString()).toBe('one two three')
    again.stored.close()
  })

  it('compacts once the appended updates outweigh the document, into one update holding everything', async () => {
    const path = freshPath()
    const { stored } = load(path, 'room', { minBytes: 1000, maxUpdates: 1_000_000 })
    const text = stored.doc.getText('t')
    for (let i = 0; i < 400; i++) text.insert(text.length, 'x')
    await afterQueuedWork()
    const { updates } = stored.stats()
    // 400 one-character updates are ~8 KB: compacted as soon as they passed 1,000 bytes, and again since.
    expect(updates).toBeLessThan(400)
    const reference = Y.encodeStateAsUpdate(stored.doc)
    stored.close()
    const again = load(path)
    expect(again.updates).toBe(1)
    expect(Y.encodeStateAsUpdate(again.stored.doc)).toEqual(reference)
    expect(again.stored.doc.getText('t').toString()).toBe('x'.repeat(400))
    again.stored.close()
  })

  it('gives the space of compacted updates back to the file system', async () => {
    const path = freshPath()
    const { stored } = load(path, 'room', { minBytes: Infinity, maxUpdates: Infinity })
    const text = stored.doc.getText('t')
    for (let i = 0; i < 2000; i++) text.insert(text.length, `line ${i}\n`)
    text.delete(0, text.length)
    const before = stored.stats().fileBytes
    stored.compactNow()
    const after = stored.stats()
    expect(after.updates).toBe(1)
    expect(after.fileBytes).toBeLessThan(before / 2)
    stored.close()
  })

  it('refuses a file of another room, naming both', () => {
    const path = freshPath()
    load(path, 'first').stored.close()
    expect(() => RoomStore.open(Database, path, 'second')).toThrow(KeeperError)
    expect(() => RoomStore.open(Database, path, 'second')).toThrow(`store belongs to room "first" [room "second", store ${path}]`)
  })

  it('reports a file that is not a database, or a truncated one, with its room and path', () => {
    const garbage = freshPath()
    writeFileSync(garbage, Buffer.alloc(8192, 'nope'))
    const error = (() => { try { RoomStore.open(Database, garbage, 'g') } catch (e) { return e } })() as KeeperError
    expect(error).toBeInstanceOf(KeeperError)
    expect(error).toMatchObject({ roomId: 'g', path: garbage })

    const truncated = freshPath()
    const { stored } = load(truncated, 't')
    stored.doc.getText('t').insert(0, 'y'.repeat(300_000))
    stored.close()
    truncateSync(truncated, Math.floor(statSync(truncated).size / 2))
    expect(() => StoredDoc.load(RoomStore.open(Database, truncated, 't'), defaultCompaction, () => {})).toThrow(KeeperError)
  })

  it('reports a row that is not a Yjs update, with its room and path', () => {
    const path = freshPath()
    const store = RoomStore.open(Database, path, 'r')
    store.append(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))
    expect(() => StoredDoc.load(store, defaultCompaction, () => {})).toThrow(`room store holds an update that Yjs cannot apply`)
    store.close()
  })

  it('a second keeper cannot open a store the first has open', () => {
    const path = freshPath()
    const { stored } = load(path)
    stored.doc.getText('t').insert(0, 'mine')
    expect(() => StoredDoc.load(RoomStore.open(Database, path, 'room'), defaultCompaction, () => {})).toThrow(KeeperError)
    stored.close()
  })

  it('warns when the stored updates depend on one that is missing, and keeps what it has', () => {
    const source = new Y.Doc()
    const updates: Uint8Array[] = []
    source.on('update', (u: Uint8Array) => updates.push(u))
    source.getText('t').insert(0, 'first')
    source.getText('t').insert(5, ' second')
    const path = freshPath()
    const store = RoomStore.open(Database, path, 'r')
    store.append(updates[1]!)
    store.close()
    const { stored, reports } = load(path, 'r')
    expect(reports.map(([kind, error]) => [kind, error.roomId, error.path])).toEqual([['warning', 'r', path]])
    stored.close()
  })
})
