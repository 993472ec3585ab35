/**
 * The keeper's errors: a `TrysteroYjsError` that also names the room and, for storage, the file,
 * so that one log line says which room failed and where its data is.
 */
import { TrysteroYjsError, type TrysteroYjsErrorDetails } from '../../errors.js'

export interface KeeperErrorDetails extends TrysteroYjsErrorDetails {
  /** The room the error is about. */
  roomId?: string
  /** The room's store file, when storage is involved. */
  path?: string
}

/** The keeper's error: a `TrysteroYjsError` that also names the room and its store file. */
export class KeeperError extends TrysteroYjsError {
  /** The room the error is about. */
  readonly roomId: string | undefined
  /** The room's store file, when storage is involved. */
  readonly path: string | undefined

  constructor (summary: string, details: KeeperErrorDetails = {}) {
    const { roomId, path, ...rest } = details
    const where = [roomId === undefined ? null : `room ${JSON.stringify(roomId)}`, path === undefined ? null : `store ${path}`]
      .filter((part) => part !== null).join(', ')
    super(where === '' ? summary : `${summary} [${where}]`, rest)
    this.name = 'KeeperError'
    this.roomId = roomId
    this.path = path
  }
}
