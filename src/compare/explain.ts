/**
 * Why a write won. For LWW the answer is always a comparison of stamps; for Y.Map it is causality
 * (a write made after seeing another replaces it) and, between concurrent writes, Yjs's order: each
 * write sits right after the value it replaced, and concurrent writes that replaced the same value
 * are ordered by client id (both checked against Yjs 13 in test/compare). "Seen" comes from the
 * run, per side: a replica saw a write if it made it or received it before its own write.
 */
import { compareStamps, type Stamp } from '../lww/clocks.js'
import type { SideId, WriteRecord } from './run-scenario.js'

/** A key written more than once, on one side: who won and who lost, and why. */
export interface Contest {
  /** The key. */
  key: string
  /** The write whose value (or deletion) holds at the first replica; `null` if none can be named. */
  winner: WriteRecord | null
  /** One line: why the winner holds. */
  why: string
  /** The writes that lost, each with why. */
  losers: Array<{ write: WriteRecord, why: string }>
  /** Losers made after seeing the winner: causally later writes that lost. */
  causallyLaterLost: WriteRecord[]
}

/** `B@5000ms` (or `B@5000ms#2` for the second write in that millisecond). */
export const formatStamp = (stamp: Stamp): string => `${stamp.writer}@${stamp.time}ms${stamp.counter > 0 ? `#${stamp.counter}` : ''}`

const sawOn = (side: SideId) => (later: WriteRecord, earlier: WriteRecord): boolean => later.saw[side].includes(earlier.index)

const describe = (write: WriteRecord): string => write.op === 'set' ? `${write.replica}'s set to ${JSON.stringify(write.value)}` : `${write.replica}'s delete`

type ItemId = { client: number, clock: number }
const sameItem = (a: ItemId | null, b: ItemId | null): boolean => a !== null && b !== null && a.client === b.client && a.clock === b.clock

export const explainContests = (
  side: SideId,
  writes: WriteRecord[],
  lwwEntry: (key: string) => { stamp: Stamp, deleted: boolean } | null,
  yLastItem: ((key: string) => ItemId & { deleted: boolean } | null) | null
): Contest[] => {
  const byKey = new Map<string, WriteRecord[]>()
  for (const write of writes) byKey.set(write.key, [...(byKey.get(write.key) ?? []), write])
  const saw = sawOn(side)
  const contests: Contest[] = []
  for (const [key, keyWrites] of byKey) {
    if (keyWrites.length < 2) continue
    const winner = side === 'ymap' ? yWinner(keyWrites, yLastItem!(key)) : lwwWinner(side, keyWrites, lwwEntry(key))
    if (winner === null) {
      contests.push({ key, winner, why: 'no single write holds (the replicas did not converge)', losers: [], causallyLaterLost: [] })
      continue
    }
    const losers = keyWrites.filter((w) => w !== winner).map((write) => ({
      write,
      why: side === 'ymap' ? whyYMap(saw, writes, winner, write) : whyLww(side, saw, keyWrites, winner, write)
    }))
    // A loser is causally later if it lost to a write its replica had already seen: in LWW, any
    // seen write with a larger stamp (the loser could never win); in Y.Map, the winner itself.
    // A loser whose effect holds anyway (a delete, when the key ends up deleted) lost nothing.
    const causallyLaterLost = losers.map((l) => l.write).filter((l) => !sameEffect(l, winner) && (side === 'ymap'
      ? saw(l, winner)
      : keyWrites.some((other) => other !== l && saw(l, other) && compareStamps(lwwStamp(side, other), lwwStamp(side, l)) > 0)))
    const headline = losers.find((l) => causallyLaterLost.includes(l.write)) ?? losers.reduce((a, b) => (b.write.index > a.write.index ? b : a))
    contests.push({ key, winner, why: `${describe(winner)} holds: ${headline.why}`, losers, causallyLaterLost })
  }
  return contests
}

const sameEffect = (a: WriteRecord, b: WriteRecord): boolean =>
  a.op === b.op && (a.op === 'delete' || JSON.stringify(a.value) === JSON.stringify(b.value))

const lwwStamp = (side: SideId, write: WriteRecord): Stamp => side === 'lww-wall' ? write.wallStamp : write.hlcStamp

const lwwWinner = (side: SideId, writes: WriteRecord[], entry: { stamp: Stamp } | null): WriteRecord | null =>
  entry === null ? null : writes.find((w) => compareStamps(lwwStamp(side, w), entry.stamp) === 0) ?? null

type Saw = (later: WriteRecord, earlier: WriteRecord) => boolean

const whyLww = (side: SideId, saw: Saw, keyWrites: WriteRecord[], winner: WriteRecord, loser: WriteRecord): string => {
  const [w, l] = [lwwStamp(side, winner), lwwStamp(side, loser)]
  // The write it had seen with the largest stamp: what it lost to the moment it was made.
  const beaten = keyWrites.filter((o) => o !== loser && saw(loser, o) && compareStamps(lwwStamp(side, o), l) > 0)
    .sort((a, b) => compareStamps(lwwStamp(side, b), lwwStamp(side, a)))[0]
  if (beaten !== undefined) {
    return `${loser.replica} wrote after seeing ${describe(beaten)}, yet lost to it: ${formatStamp(lwwStamp(side, beaten))} is larger than ${formatStamp(l)}`
  }
  if (w.time === l.time && w.counter === l.counter) return `same clock reading as ${describe(loser)}: the writer id breaks the tie (${w.writer} > ${l.writer})`
  if (saw(winner, loser)) return `written after ${describe(loser)}, with a larger stamp (${formatStamp(w)} > ${formatStamp(l)})`
  return `concurrent with ${describe(loser)}: the larger stamp wins (${formatStamp(w)} > ${formatStamp(l)})`
}

/** A set's value is its item; the winner of an absent key is the delete that removed its last item. */
const yWinner = (writes: WriteRecord[], last: (ItemId & { deleted: boolean }) | null): WriteRecord | null => {
  if (last === null) return null
  if (!last.deleted) return writes.find((w) => sameItem(w.yItem, last)) ?? null
  return writes.find((w) => w.op === 'delete' && sameItem(w.yRemoved, last)) ?? null
}

const whyYMap = (saw: Saw, writes: WriteRecord[], winner: WriteRecord, loser: WriteRecord): string => {
  if (loser.op === 'delete' && loser.yRemoved === null) return `${describe(loser)} removed nothing: the key had no value there then`
  if (saw(loser, winner)) return `${describe(loser)} came after seeing it, yet lost`
  if (winner.op === 'delete') {
    if (loser.op === 'delete') return `${describe(loser)} removed an earlier value`
    return sameItem(winner.yRemoved, loser.yItem)
      ? `deleted after seeing ${describe(loser)} (causal order)`
      : `${describe(loser)} was replaced by a later write before the delete`
  }
  if (saw(winner, loser)) {
    return loser.op === 'set'
      ? `written after seeing ${describe(loser)}, which it replaces (causal order)`
      : `set again after seeing ${describe(loser)} (causal order)`
  }
  if (loser.op === 'delete') return `concurrent with ${describe(loser)}, which removed only the value it had seen (a delete never removes a set it has not seen)`
  if (sameItem(winner.yOrigin, loser.yOrigin) || (winner.yOrigin === null && loser.yOrigin === null)) {
    return `concurrent with ${describe(loser)}, both replacing the same value: Yjs keeps the higher client id (${winner.clientId} > ${loser.clientId})`
  }
  // Each write sits right after the value it replaced; concurrent writes that replaced different
  // values are ordered by those values, not by client id.
  const replaced = (write: WriteRecord): string => {
    const origin = writes.find((w) => sameItem(w.yItem, write.yOrigin))
    return origin === undefined ? 'no value' : JSON.stringify(origin.value)
  }
  return `concurrent with ${describe(loser)}, but they replaced different values (${replaced(winner)} vs ${replaced(loser)}): Yjs orders writes after the value they replaced, and ${winner.replica}'s replaced the later one`
}
