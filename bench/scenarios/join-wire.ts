/**
 * Scenario 4 (per join): what a fresh peer joining a room of N−1 peers costs on the data
 * channels (all peers counted) and on the signaling server. Every peer already holds the small
 * document, so this is the protocol's own cost.
 */
import { ours, yWebrtc, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import type { Counters } from '../harness/protocol.js'
import { join, staggerMs, waitSynced, withRoom } from '../harness/rooms.js'
import { median, ratio, type Table } from '../support/report.js'
import { pairs } from './join.js'

export interface JoinWireOptions {
  sizes: number[]
  runs: number
  small: BenchDocument
  timeoutMs: number
}

export interface JoinWireRow {
  contender: string
  peers: number
  dataChannelBytes: number | null
  dataChannelMessages: number | null
  signalingBytes: number | null
  failures: number
}

export const runJoinWire = async (options: JoinWireOptions): Promise<JoinWireRow[]> => {
  const rows: JoinWireRow[] = []
  for (const peers of options.sizes) for (const contender of [ours, yWebrtc]) rows.push(await measure(contender, peers, options))
  return rows
}

const measure = async (contender: Contender, count: number, options: JoinWireOptions): Promise<JoinWireRow> => {
  const bytes: number[] = []
  const messages: number[] = []
  const signaling: number[] = []
  let failures = 0
  for (let run = 0; run < options.runs; run++) {
    await withRoom(contender, async (room) => {
      try {
        const present = await room.spawn(count - 1, options.small.file)
        await join(present, staggerMs)
        if (count > 2) await waitSynced(present, count - 2, options.timeoutMs)
        await Promise.all(present.map(async (p) => await p.request({ type: 'reset-counters' })))
        const [fresh] = await room.spawn(1, options.small.file)
        // After the fresh process started (it has not connected yet), so only its join is counted.
        const before = await room.signaling.traffic()
        await join([fresh!])
        await waitSynced([...present, fresh!], count - 1, options.timeoutMs)
        const after = await room.signaling.traffic()
        const counters = await Promise.all([...present, fresh!].map(async (p) => await p.request<Counters>({ type: 'counters' })))
        bytes.push(counters.reduce((n, c) => n + c.dataChannel.bytes, 0))
        messages.push(counters.reduce((n, c) => n + c.dataChannel.messages, 0))
        signaling.push(after.received + after.sent - before.received - before.sent)
      } catch {
        failures++
      }
    })
  }
  const m = (values: number[]): number | null => values.length === 0 ? null : median(values)
  return { contender: contender.label, peers: count, dataChannelBytes: m(bytes), dataChannelMessages: m(messages), signalingBytes: m(signaling), failures }
}

export const joinWireTable = (rows: JoinWireRow[]): Table => ({
  title: 'Wire cost of a join: a fresh peer joins N−1 peers that hold the same 10 KB document (medians)',
  columns: ['peers after the join', 'data-channel bytes, ours', 'y-webrtc', 'ours / y-webrtc', 'messages, ours', 'y-webrtc', 'signaling bytes, ours', 'y-webrtc'],
  rows: pairs(rows).map(([a, b]) => [a.peers, a.dataChannelBytes, b.dataChannelBytes, ratio(a.dataChannelBytes, b.dataChannelBytes),
    a.dataChannelMessages, b.dataChannelMessages, a.signalingBytes, b.signalingBytes]),
  notes: ['signaling bytes: both directions, counted by each provider\'s own server during the join (MQTT broker for ours, y-webrtc\'s bin/server.js)']
})
