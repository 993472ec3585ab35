/**
 * One room's document on disk: a SQLite database (better-sqlite3) per room, holding the Yjs
 * updates the keeper applied, oldest first. A file per room, so that a damaged file costs one
 * room and never the others; SQLite, because it is the most tested embedded store there is and
 * commits atomically (a kill at any moment leaves the last committed update, whole).
 *
 * - WAL journal with `synchronous = NORMAL`: a commit is in the operating system's hands when
 *   `append` returns, so it survives the process being killed (SIGKILL, a crash). A power cut
 *   can lose the last commits, never the file; peers that still hold those edits send them
 *   back when they rejoin.
 * - `locking_mode = EXCLUSIVE`: a second keeper pointed at the same directory fails on that room
 *   instead of interleaving writes with the first one.
 * - `auto_vacuum = INCREMENTAL`: compaction gives the freed pages back to the file system.
 * - The write-ahead log is checkpointed every 1 MiB and truncated to 1 MiB.
 */
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { KeeperError } from './keeper-error.js'

type Database = BetterSqlite3.Database
type SqliteConstructor = typeof BetterSqlite3

/** Bumped if the layout changes; a store of another version is refused, not guessed at. */
const formatVersion = '1'

export interface RoomStoreStats {
  /** Rows: stored updates. */
  updates: number
  /** Bytes of the stored updates. */
  updateBytes: number
  /** Bytes on disk: the database file and its write-ahead log. */
  fileBytes: number
}

/**
 * The file name of a room's store: readable (the room id, made safe) and unique (a hash of the
 * exact id, since two ids can make the same safe name).
 */
export const roomStoreFileName = (roomId: string): string => {
  const readable = roomId.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 48)
  const hash = createHash('sha256').update(roomId).digest('hex').slice(0, 16)
  return `${readable}-${hash}.sqlite3`
}

export const roomStorePath = (dir: string, roomId: string): string => join(dir, roomStoreFileName(roomId))

export class RoomStore {
  private readonly insertUpdate: BetterSqlite3.Statement<[Buffer]>
  private closed = false

  private constructor (private readonly db: Database, readonly path: string, readonly roomId: string) {
    this.insertUpdate = db.prepare('INSERT INTO updates (data) VALUES (?)')
  }

  /**
   * Opens (or creates) the store of `roomId` at `path`. Throws a `KeeperError` naming the room
   * and the file if the file is not a database, is damaged, or belongs to another room.
   */
  static open (Sqlite: SqliteConstructor, path: string, roomId: string): RoomStore {
    let db: Database | null = null
    try {
      // No waiting for a lock: only another keeper on the same directory would hold one.
      db = new Sqlite(path, { timeout: 0 })
      // Before the first access: SQLite then keeps the WAL index in memory, no -shm file.
      db.pragma('locking_mode = EXCLUSIVE')
      // Only takes effect on a new file, before the first table: that is when we want it.
      db.pragma('auto_vacuum = INCREMENTAL')
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      // The log is checkpointed into the database every 1 MiB (SQLite's default: 4 MiB) and cut
      // back to 1 MiB after: a room's files stay near its document's size, not its log's.
      db.pragma('wal_autocheckpoint = 256')
      db.pragma('journal_size_limit = 1048576')
      // Small page cache: a room's document is read once at load, then only appended to.
      db.pragma('cache_size = -512')
      db.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
               CREATE TABLE IF NOT EXISTS updates (id INTEGER PRIMARY KEY, data BLOB NOT NULL);`)
      const check = db.pragma('quick_check', { simple: true })
      if (check !== 'ok') throw new KeeperError(`SQLite quick_check failed: ${String(check)}`, { roomId, path })
      const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string, value: string }>).map((r) => [r.key, r.value]))
      if (meta.size === 0) {
        const insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)')
        db.transaction(() => {
          insert.run('format', formatVersion)
          insert.run('room', roomId)
        })()
      } else if (meta.get('format') !== formatVersion) {
        throw new KeeperError(`store format ${String(meta.get('format'))} is not ${formatVersion}`, { roomId, path })
      } else if (meta.get('room') !== roomId) {
        throw new KeeperError(`store belongs to room ${JSON.stringify(meta.get('room'))}`, { roomId, path })
      }
      return new RoomStore(db, path, roomId)
    } catch (error) {
      try {
        db?.close()
      } catch {
        // Closing a database that failed to open can fail too; the first error is the one to report.
      }
      if (error instanceof KeeperError) throw error
      throw new KeeperError('room store is unreadable (damaged, truncated, or not a keeper store)', { roomId, path, cause: error })
    }
  }

  /** Every stored update, oldest first. Throws a `KeeperError` if the file is damaged. */
  readUpdates (): Uint8Array[] {
    try {
      return (this.db.prepare('SELECT data FROM updates ORDER BY id').all() as Array<{ data: Buffer }>).map((row) => row.data)
    } catch (error) {
      throw new KeeperError('room store is unreadable', { roomId: this.roomId, path: this.path, cause: error })
    }
  }

  /** Appends one update, committed when this returns. */
  append (update: Uint8Array): void {
    this.insertUpdate.run(Buffer.from(update.buffer, update.byteOffset, update.byteLength))
  }

  /**
   * Replaces every stored update with `state`, which must contain them all (the document's
   * whole state), in one transaction: a kill during compaction leaves either the old rows or
   * the new one. Then gives the freed space back.
   */
  replaceAll (state: Uint8Array): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM updates').run()
      this.append(state)
    })()
    // Free pages out of the database (written to the log), then the log into the database.
    this.db.pragma('incremental_vacuum')
    this.db.pragma('wal_checkpoint(TRUNCATE)')
  }

  stats (): RoomStoreStats {
    const row = this.db.prepare('SELECT count(*) AS updates, coalesce(sum(length(data)), 0) AS bytes FROM updates').get() as { updates: number, bytes: number }
    return { updates: row.updates, updateBytes: row.bytes, fileBytes: fileBytes(this.path) }
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }
}

/** The database file and its write-ahead log, as they are on disk now. */
export const fileBytes = (path: string): number =>
  [path, `${path}-wal`].reduce((sum, file) => sum + (existsSync(file) ? statSync(file).size : 0), 0)
