/**
 * The keeper's log: one line per event, as text for a person or JSON for a log pipeline. Every
 * line names its room; JSON lines carry `event` and `time`. Errors and warnings go to stderr.
 */
import type { Keeper } from './keeper.js'
import { KeeperError } from './keeper-error.js'
import type { TrysteroYjsError } from '../../errors.js'

export type LogFormat = 'text' | 'json'

export interface KeeperLogSink {
  out: (line: string) => void
  err: (line: string) => void
}

const consoleSink: KeeperLogSink = { out: (line) => console.log(line), err: (line) => console.error(line) }

const kb = (bytes: number): string => `${(bytes / 1000).toFixed(1)} KB`
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

export interface KeeperLog {
  /** `keeping N rooms`. */
  ready: (rooms: number) => void
  /** A room that could not be kept (its store is unreadable): the error names room and file. */
  failed: (error: TrysteroYjsError) => void
  stopped: () => void
}

export const attachKeeperLog = (keeper: Keeper<any>, format: LogFormat, sink: KeeperLogSink = consoleSink): KeeperLog => {
  const line = (to: 'out' | 'err', event: string, fields: Record<string, unknown>, text: string): void => {
    sink[to](format === 'json' ? JSON.stringify({ event, time: new Date().toISOString(), ...fields }) : text)
  }
  const problem = (kind: 'error' | 'warning') => (error: TrysteroYjsError, room?: string): void => {
    const { roomId = room, path } = error as Partial<KeeperError>
    line('err', kind, { room: roomId, path, peer: error.peerId, message: error.message },
      `${kind}${roomId === undefined || error instanceof KeeperError ? '' : ` in ${roomId}`}: ${error.message}`)
  }
  keeper.on('load', ({ roomId, reason, updates, updateBytes, fileBytes, ms }) => line('out', 'load',
    { room: roomId, reason, updates, bytes: updateBytes, fileBytes, ms: Math.round(ms) },
    `loaded ${roomId}${reason === 'peer' ? ' for a peer' : ''}: ${kb(updateBytes)} in ${plural(updates, 'update')} (${kb(fileBytes)} on disk), ${Math.round(ms)} ms`))
  keeper.on('unload', ({ roomId, fileBytes }) => line('out', 'unload', { room: roomId, fileBytes },
    `unloaded ${roomId}: nobody has it open (${kb(fileBytes)} on disk)`))
  keeper.on('join', ({ roomId, peerId, peers }) => line('out', 'join', { room: roomId, peer: peerId, peers },
    `join ${roomId}: peer ${peerId} (${plural(peers, 'peer')})`))
  keeper.on('leave', ({ roomId, peerId, peers }) => line('out', 'leave', { room: roomId, peer: peerId, peers },
    `leave ${roomId}: peer ${peerId} (${plural(peers, 'peer')})`))
  keeper.on('sync', ({ roomId, peers }) => line('out', 'sync', { room: roomId, peers },
    `sync ${roomId}: synced with ${plural(peers, 'peer')}`))
  keeper.on('join-error', ({ roomId, peerId, error }) => line('out', 'join-error', { room: roomId, peer: peerId, error },
    `join error ${roomId}: peer ${peerId}: ${error}`))
  keeper.on('upstream', ({ roomId, status, synced }) => line('out', 'upstream', { room: roomId, status, synced },
    `upstream ${roomId}: ${status}${synced ? ', synced' : ''}`))
  keeper.on('error', problem('error'))
  keeper.on('warning', problem('warning'))
  return {
    ready: (rooms) => line('out', 'ready', { rooms }, `keeping ${plural(rooms, 'room')}`),
    failed: problem('error'),
    stopped: () => line('out', 'stopped', {}, 'stopped: stores closed, rooms left')
  }
}
