/**
 * Initial sync over a slow link (issue 13: where compact sync's byte saving shows as time): a fresh
 * peer joins a holder of the document across a 10 Mbit/s link with 40 ms of round trip, made of
 * network namespaces (bench/harness/shaped-link.ts). Time from the fresh peer's data channel
 * opening to the whole text being there, and the bytes the holder sent; ours with and without
 * compact sync, today's build when given, y-webrtc where it can (messages over 256 KiB close its
 * channel).
 */
import { holderIdle, type Contender } from '../harness/contenders.js'
import type { BenchDocument } from '../harness/documents.js'
import { PeerHandle } from '../harness/peer-handle.js'
import type { SyncedAt } from '../harness/rooms.js'
import { setUpShapedLink, type ShapedLink } from '../harness/shaped-link.js'
import { startSignaling } from '../harness/signaling.js'
import { formatSpread, median, spread, type Spread, type Table } from '../support/report.js'

export interface ShapedOptions {
  documents: BenchDocument[]
  runs: number
  contenders: Contender[]
  timeoutMs: number
}

export interface ShapedRow {
  document: BenchDocument
  results: Array<{ contender: string, ms: Spread | null, bytes: number | null, synced: number, attempted: number, note: string }>
}

export interface ShapedResult {
  link: Omit<ShapedLink, 'tearDown' | 'ends'> | null
  /** Why there is no result, when the machine does not allow namespaces. */
  unavailable: string | null
  rows: ShapedRow[]
}

let roomCounter = 0

export const runShapedLink = async (options: ShapedOptions): Promise<ShapedResult> => {
  let link: ShapedLink
  try {
    link = await setUpShapedLink(10, 20)
  } catch (error) {
    return { link: null, unavailable: (error as Error).message, rows: [] }
  }
  try {
    const rows: ShapedRow[] = []
    for (const document of options.documents) {
      const runs = options.contenders.map(() => ({ times: [] as number[], bytes: [] as number[], attempted: 0, note: '', failed: false }))
      for (let i = 0; i < options.runs; i++) {
        for (const [c, contender] of options.contenders.entries()) {
          const r = runs[c]!
          if (r.failed) continue
          // y-webrtc closes its channel on any message over 256 KiB (size ladder): a step 2 that big never arrives.
          if (contender.provider === 'y-webrtc' && document.stateBytes > 256 * 1024) {
            r.note = 'not run: y-webrtc closes its data channel on a message over 256 KiB (see the size ladder)'
            r.failed = true
            continue
          }
          r.attempted++
          try {
            const { ms, bytes } = await syncOnce(link, contender, document, options.timeoutMs)
            r.times.push(ms)
            r.bytes.push(bytes)
          } catch (error) {
            r.note = (error as Error).message
            r.failed = true
          }
        }
      }
      rows.push({
        document,
        results: options.contenders.map((contender, c) => {
          const r = runs[c]!
          return { contender: contender.label, ms: spread(r.times), bytes: r.bytes.length === 0 ? null : median(r.bytes), synced: r.times.length, attempted: r.attempted, note: r.note }
        })
      })
    }
    const { ends: _ends, tearDown: _tearDown, ...described } = link
    return { link: described, unavailable: null, rows }
  } finally {
    await link.tearDown()
  }
}

/** One sync: the holder in one namespace, the fresh peer in the other. */
const syncOnce = async (link: ShapedLink, contender: Contender, document: BenchDocument, timeoutMs: number): Promise<{ ms: number, bytes: number }> => {
  const signaling = await startSignaling(contender.provider, '0.0.0.0')
  const peers: PeerHandle[] = []
  const room = `shaped-${process.pid}-${++roomCounter}`
  const spawn = async (end: 0 | 1, documentFile?: string): Promise<PeerHandle> => {
    const { netns, dataAddress, coordinatorAddress } = link.ends[end]
    const peer = await PeerHandle.spawn({
      provider: contender.provider,
      rtc: contender.rtc,
      signalingUrl: signaling.url.replace('0.0.0.0', coordinatorAddress),
      room,
      netns,
      bindAddress: dataAddress,
      ...(link.delayBy === 'in-process' ? { sendDelayMs: link.oneWayDelayMs } : {}),
      ...(documentFile === undefined ? {} : { documentFile }),
      ...(contender.compactSync === undefined ? {} : { compactSync: contender.compactSync }),
      ...(contender.stateSnapshot === undefined ? {} : { stateSnapshot: contender.stateSnapshot }),
      ...(contender.build === undefined ? {} : { build: contender.build })
    })
    peers.push(peer)
    return peer
  }
  try {
    const holder = await spawn(0, document.file)
    await holder.request({ type: 'join' })
    const joinedAt = performance.now()
    await holder.request({ type: 'reset-counters' })
    const fresh = await spawn(1)
    await holderIdle(joinedAt)
    await fresh.request({ type: 'join' })
    const done = await fresh.request<SyncedAt>({ type: 'wait-length', length: document.textLength, timeoutMs })
    const counters = await holder.request<{ dataChannel: { bytes: number } }>({ type: 'counters' })
    return { ms: done.at - (done.channelOpenAt ?? done.createdAt), bytes: counters.dataChannel.bytes }
  } finally {
    await Promise.all(peers.map(async (peer) => await peer.close()))
    await signaling.close()
  }
}

export const shapedLinkTable = (result: ShapedResult): Table => {
  const link = result.link
  const labels = result.rows[0]?.results.map((r) => r.contender) ?? []
  return {
    title: link === null
      ? 'Initial sync over a slow link: not measured'
      : `Initial sync over a slow link (${link.rateMbit} Mbit/s, ${2 * link.oneWayDelayMs} ms round trip): fresh peer, data channel open → whole text there (ms), and bytes the holder sent`,
    columns: ['document', 'state bytes (V1)', 'link time of the V1 state (ms)', ...labels.flatMap((label) => [label, 'bytes sent'])],
    rows: result.rows.map((row) => [
      row.document.name,
      row.document.stateBytes,
      link === null ? '—' : (row.document.stateBytes * 8 / (link.rateMbit * 1000) + link.oneWayDelayMs).toFixed(0),
      ...row.results.flatMap((r) => [r.ms === null ? (r.attempted === 0 ? 'fails (> 256 KiB)' : `failed${r.note === '' ? '' : ` (${r.note.slice(0, 60)})`}`) : formatSpread(r.ms), r.bytes === null ? '—' : r.bytes.toLocaleString('en-US')])
    ]),
    notes: result.unavailable !== null
      ? [`not measured on this machine: ${result.unavailable}`]
      : [
          'the link: two Linux network namespaces joined by a veth pair whose ends are rate-limited by the kernel (tc tbf: 16 KB bucket, 100 ms of queue); signaling on unshaped side links',
          link?.delayBy === 'in-process'
            ? `the ${link.oneWayDelayMs} ms each way are added in each peer process (every data-channel message held that long before it is sent): this kernel has no netem; SCTP's own acknowledgements are not delayed, so its window opens faster than on a real ${2 * link.oneWayDelayMs} ms link, which favours whoever sends more bytes`
            : 'rate and delay by the kernel (netem)',
          'link time of the V1 state: its bytes at the link rate plus one way, without any framing: what moving today\'s step 2 costs at least',
          'runs alternate between contenders; a contender that fails a size is not retried on it'
        ]
  }
}
