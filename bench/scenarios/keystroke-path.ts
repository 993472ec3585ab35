/**
 * What compact sync's ordered queues (src/compact/) cost a keystroke: the time of one small update
 * through the sending path (frame it, hand it to the channel) and the receiving path (split the
 * frame, hand each message on), as the provider did before compact sync and as it does now, in
 * one process, with a channel that takes frames at once. Also while another peer has a compact
 * step 2 being compressed: a keystroke to the others must not wait for it.
 */
import * as Y from 'yjs'
import { CompactReceiver } from '../../src/compact/compact-receiver.js'
import { CompactSender } from '../../src/compact/compact-sender.js'
import { decodeFrame, encodeFrame } from '../../src/protocol/doc-messages.js'
import type { Table } from '../support/report.js'

export interface KeystrokePathRow {
  path: string
  peers: number
  beforeNs: number
  nowNs: number
}

const keystroke = (): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'a')
  const before = Y.encodeStateVector(doc)
  doc.getText('t').insert(1, 'b')
  return Y.encodeStateAsUpdate(doc, before)
}

/**
 * ns per call, median of 9 rounds of `n` calls after one of warm-up; the promises each round
 * leaves are settled between rounds (outside the clock).
 */
const perCall = async (n: number, f: () => void): Promise<number> => {
  const rounds: number[] = []
  for (let round = 0; round < 10; round++) {
    const start = performance.now()
    for (let i = 0; i < n; i++) f()
    if (round > 0) rounds.push((performance.now() - start) * 1e6 / n)
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
  return rounds.sort((a, b) => a - b)[4]!
}

export const runKeystrokePath = async (calls = 100_000): Promise<KeystrokePathRow[]> => {
  const update = keystroke()
  const handedOver = Promise.resolve()
  let sink = 0
  // As DocSession's: an async function that counts the traffic and awaits the channel.
  const transmit = async (frame: Uint8Array, targets: string[]): Promise<void> => { sink += frame.byteLength + targets.length; await handedOver }
  // What DocSession.send did before compact sync, the same way.
  const sendBefore = async (targets: string[]): Promise<void> => { await transmit(encodeFrame([{ type: 'sync-update', update }]), targets) }
  const rows: KeystrokePathRow[] = []
  for (const peers of [1, 4]) {
    const targets = Array.from({ length: peers }, (_, i) => `peer-${i}`)
    const sender = new CompactSender({ transmit, compactPeer: () => true, failed: () => {} })
    rows.push({
      path: 'send a keystroke (frame, hand over)',
      peers,
      beforeNs: await perCall(calls, () => { void sendBefore(targets) }),
      nowNs: await perCall(calls, () => { void sender.sendUpdate(update, targets) })
    })
  }
  // A compact step 2 for another peer being compressed meanwhile (its frame never comes, here).
  const busy = new CompactSender({ transmit, compactPeer: () => true, failed: () => {} })
  void busy.sendStep2('joining', () => { const doc = new Y.Doc(); doc.getText('t').insert(0, 'x'.repeat(100_000)); return Y.encodeStateAsUpdateV2(doc) })
  const others = ['peer-0', 'peer-1', 'peer-2']
  rows.push({
    path: 'send a keystroke while a 4th peer\'s step 2 is being compressed',
    peers: 3,
    beforeNs: await perCall(calls, () => { void sendBefore(others) }),
    nowNs: await perCall(calls, () => { void busy.sendUpdate(update, others) })
  })
  const frame = encodeFrame([{ type: 'sync-update', update }])
  let handled = 0
  const receiver = new CompactReceiver({ docName: '', accepting: () => true, maxMessageBytes: 1 << 27, charge: () => true, disconnect: () => {}, admitted: () => true, report: () => {} })
  rows.push({
    path: 'receive a keystroke (split the frame, hand on)',
    peers: 1,
    beforeNs: await perCall(calls, () => { for (const message of decodeFrame(frame).messages) if (message.type === 'sync-update') handled++ }),
    nowNs: await perCall(calls, () => { receiver.deliver('peer-0', decodeFrame(frame).messages, frame.byteLength, (message) => { if (message.type === 'sync-update') handled++ }) })
  })
  if (sink < 0 || handled < 0) throw new Error('unreachable')
  await handedOver
  return rows
}

export const keystrokePathTable = (rows: KeystrokePathRow[]): Table => ({
  title: 'A keystroke through the provider\'s own sending and receiving path, before compact sync and now (ns per keystroke, one process)',
  columns: ['path', 'peers', 'before (direct)', 'now (ordered queues)', 'difference'],
  rows: rows.map((r) => [r.path, r.peers, r.beforeNs.toFixed(0), r.nowNs.toFixed(0), `${(r.nowNs - r.beforeNs >= 0 ? '+' : '')}${(r.nowNs - r.beforeNs).toFixed(0)}`]),
  notes: [
    'a keystroke: a 2-character Yjs update (20 bytes); the channel takes frames at once; median of 9 rounds of 100,000 after one of warm-up',
    'a small update never waits behind anything unless a compact message for that same peer is in flight (src/compact/peer-order.ts); the network, Trystero and Yjs, which cost tens to hundreds of µs per keystroke, are not in these figures (see the typing table)'
  ]
})
