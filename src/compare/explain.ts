/**
 * Why a write won. For LWW the answer is always a comparison of stamps; for Y.Map it is causality
 * (a write made after seeing another replaces it) and, between concurrent writes, the higher Yjs
 * client id (checked against Yjs 13: see test/compare). "Seen" comes from the run: a replica saw
 * a write if it made it or received it before its own write.
 */
import type { Stamp } from '../lww/clocks.js'
import type { SideId, WriteRecord } from './run-scenario.js'

export interface Contest {
  key: string
  /** The write whose value (or deletion) holds at the first replica; `null` if none can be named. */
  winner: WriteRecord | null
  /** One line: why the winner holds. */
  why: string
  losers: Array<{ write: WriteRecord, why: string }>
  /** Losers made after seeing the winner: causally later writes that lost. */
  causallyLaterLost: WriteRecord[]
}

/** `B@5000ms` (or `B@5000ms#2` for the second write in that millisecond). */
export const formatStamp = (stamp: Stamp): string => `${stamp.writer}@${stamp.time}ms${stamp.counter > 0 ? `#${stamp.counter}` : ''}`

const sawOn = (side: SideId) => (later: WriteRecord, earlier: WriteRecord): boolean => later.saw[side].includes(earlier.index)

const describe = (write: WriteRecord): string => write.op === 'set' ? `${write.replica}'s set to ${JSON.stringify(write.value)}` : `${write.replica}'s delete`

export const explainContests = (
  side: SideId,
  writes: WriteRecord[],
  lwwEntry: (key: string) => { stamp: Stamp, deleted: boolean } | null,
  yItem: ((key: string) => { client: number, clock: number } | null) | null
): Contest[] => {
  const byKey = new Map<string, WriteRecord[]>()
  for (const write of writes) byKey.set(write.key, [...(byKey.get(write.key) ?? []), write])
  const contests: Contest[] = []
  for (const [key, keyWrites] of byKey) {
    if (keyWrites.length < 2) continue
    const winner = side === 'ymap' ? yWinner(keyWrites, yItem!(key)) : lwwWinner(side, keyWrites, lwwEntry(key))
    if (winner === null) {
      contests.push({ key, winner, why: 'no single write holds (the replicas did not converge)', losers: [], causallyLaterLost: [] })
      continue
    }
    const saw = sawOn(side)
    const losers = keyWrites.filter((w) => w !== winner).map((write) => ({
      write,
      why: side === 'ymap' ? whyYMap(saw, winner, write) : whyLww(side, saw, winner, write)
    }))
    const causallyLaterLost = losers.map((l) => l.write).filter((l) => saw(l, winner))
    const headline = losers.find((l) => saw(l.write, winner)) ?? losers.reduce((a, b) => (b.write.index > a.write.index ? b : a))
    contests.push({ key, winner, why: `${describe(winner)} holds: ${headline.why}`, losers, causallyLaterLost })
  }
  return contests
}

const lwwStamp = (side: SideId, write: WriteRecord): Stamp => side === 'lww-wall' ? write.wallStamp : write.hlcStamp

const sameStamp = (a: Stamp, b: Stamp): boolean => a.time === b.time && a.counter === b.counter && a.writer === b.writer

const lwwWinner = (side: SideId, writes: WriteRecord[], entry: { stamp: Stamp } | null): WriteRecord | null =>
  entry === null ? null : writes.find((w) => sameStamp(lwwStamp(side, w), entry.stamp)) ?? null

type Saw = (later: WriteRecord, earlier: WriteRecord) => boolean

const whyLww = (side: SideId, saw: Saw, winner: WriteRecord, loser: WriteRecord): string => {
  const [w, l] = [lwwStamp(side, winner), lwwStamp(side, loser)]
  if (saw(loser, winner)) {
    return `${loser.replica} wrote after seeing it, yet lost: ${winner.replica}'s stamp ${formatStamp(w)} is larger than ${formatStamp(l)}`
  }
  if (w.time === l.time && w.counter === l.counter) return `same clock reading as ${describe(loser)}: the writer id breaks the tie (${w.writer} > ${l.writer})`
  if (saw(winner, loser)) return `written after ${describe(loser)}, with a larger stamp (${formatStamp(w)} > ${formatStamp(l)})`
  return `concurrent with ${describe(loser)}: the larger stamp wins (${formatStamp(w)} > ${formatStamp(l)})`
}

const yWinner = (writes: WriteRecord[], item: { client: number, clock: number } | null): WriteRecord | null => {
  if (item !== null) return writes.find((w) => w.yItem?.client === item.client && w.yItem.clock === item.clock) ?? null
  const deletes = writes.filter((w) => w.op === 'delete')
  return deletes.length === 0 ? null : deletes[deletes.length - 1]!
}

const whyYMap = (saw: Saw, winner: WriteRecord, loser: WriteRecord): string => {
  if (loser.op === 'delete' && loser.yRemoved === null) return `${describe(loser)} removed nothing: the key had no value there then`
  if (saw(loser, winner)) return `${describe(loser)} came after seeing it, yet lost`
  if (saw(winner, loser)) {
    return winner.op === 'set'
      ? `written after seeing ${describe(loser)}, which it replaces (causal order)`
      : `deleted after seeing ${describe(loser)} (causal order)`
  }
  if (winner.op === 'set' && loser.op === 'set') {
    return `concurrent with ${describe(loser)}: Yjs keeps the higher client id (${winner.clientId} > ${loser.clientId})`
  }
  if (winner.op === 'set') return `concurrent with ${describe(loser)}, which removed only the value it had seen (a delete never removes a set it has not seen)`
  return loser.op === 'delete' ? `${describe(loser)} also removed it` : `a delete that had seen ${describe(loser)} removed it`
}
