/**
 * Scenario 1, join: peers join a room one after the other (200 ms apart), the first holding a
 * small document; for the last to join, the time from provider creation to synced with the N−1
 * others — and how much of it came after its first data channel opened (the provider's own
 * protocol, as opposed to WebRTC connection setup and signaling).
 */
import { ours, yWebrtc, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import { join, staggerMs, waitSynced, withRoom } from '../harness/rooms.js'
import { failureNotes, formatSpread, ratio, reason, spread, type Spread, type Table } from '../support/report.js'

export interface JoinOptions {
  sizes: number[]
  runs: number
  /** The small document, held by one peer; `null` for the empty case. */
  small: BenchDocument
  timeoutMs: number
}

export interface JoinRow {
  contender: string
  peers: number
  document: 'empty' | 'small'
  /** The last joiner: ms from provider creation to synced with every other peer. */
  syncedMs: Spread | null
  /** Of that, ms after its first data channel opened. */
  afterChannelOpenMs: Spread | null
  /** Runs whose first data channel opened more than `lateChannelMs` after the provider was created. */
  lateChannelRuns: number
  failureReasons: string[]
  failures: number
  runs: number
}

export const runJoin = async (options: JoinOptions): Promise<JoinRow[]> => {
  const rows: JoinRow[] = []
  for (const peers of options.sizes) {
    for (const document of ['empty', 'small'] as const) {
      for (const contender of [ours, yWebrtc]) rows.push(await measure(contender, peers, document, options))
    }
  }
  return rows
}

const measure = async (contender: Contender, count: number, document: 'empty' | 'small', options: JoinOptions): Promise<JoinRow> => {
  const times: number[] = []
  const afterOpen: number[] = []
  let lateChannelRuns = 0
  const failureReasons: string[] = []
  let failures = 0
  for (let run = 0; run < options.runs; run++) {
    await withRoom(contender, async (room) => {
      try {
        const [holder] = await room.spawn(1, document === 'small' ? options.small.file : undefined)
        const others = await room.spawn(count - 1)
        const peers = [holder!, ...others]
        await join(peers, staggerMs)
        const synced = await waitSynced(peers, count - 1, options.timeoutMs)
        const last = synced.reduce((a, b) => (b.createdAt > a.createdAt ? b : a))
        times.push(last.at - last.createdAt)
        if (last.channelOpenAt !== null) afterOpen.push(last.at - last.channelOpenAt)
        if (last.channelOpenAt !== null && last.channelOpenAt - last.createdAt > lateChannelMs) lateChannelRuns++
      } catch (error) {
        failures++
        failureReasons.push(reason(error))
      }
    })
  }
  return { contender: contender.label, peers: count, document, syncedMs: spread(times), afterChannelOpenMs: spread(afterOpen), lateChannelRuns, failureReasons, failures, runs: options.runs }
}

/**
 * node-datachannel sometimes completes DTLS about a second after ICE, for both providers; runs
 * with a channel this late are counted, so that a median can be read against the two modes.
 */
const lateChannelMs = 900

export const joinTable = (rows: JoinRow[]): Table => ({
  title: 'Join: the last of N peers (joining 200 ms apart) — provider created → synced with all others (ms, median and min–max over runs)',
  columns: ['peers', 'document', 'trystero-yjs', 'y-webrtc', 'ours / y-webrtc', 'of which after channel open: ours', 'y-webrtc', `channel open > ${lateChannelMs} ms (ours / y-webrtc)`, 'failed runs (ours / y-webrtc)'],
  rows: pairs(rows).map(([a, b]) => [a.peers, a.document, formatSpread(a.syncedMs), formatSpread(b.syncedMs),
    ratio(a.syncedMs?.median, b.syncedMs?.median), formatSpread(a.afterChannelOpenMs), formatSpread(b.afterChannelOpenMs), `${a.lateChannelRuns} / ${b.lateChannelRuns}`,
    `${a.failures}/${a.runs} / ${b.failures}/${b.runs}`]),
  notes: ['the first peer holds the document ("small": 10 KB of text)',
    'before the channel opens: signaling (MQTT broker / y-webrtc server), offer and answer, ICE and DTLS — node-datachannel sometimes finishes DTLS ~1 s after ICE (seen in the y-webrtc baseline too, see README); after it opens: the provider\'s own handshake and sync',
    `channel open > ${lateChannelMs} ms: runs where the last joiner's first channel was that late; with 5 peers the late link is usually another one, and shows in the after-open column instead`,
    'both on node-datachannel: see bench/harness/contenders.ts',
    ...failureNotes(rows)]
})

/** Rows come ours, theirs, ours, theirs… */
export const pairs = <T>(rows: T[]): Array<[T, T]> => {
  const result: Array<[T, T]> = []
  for (let i = 0; i + 1 < rows.length; i += 2) result.push([rows[i]!, rows[i + 1]!])
  return result
}
