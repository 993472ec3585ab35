/**
 * Plays a scenario on N replicas over the in-memory network, and at each write applies it to
 * three things at once on that replica: an LWW map on a wall clock, an LWW map on a hybrid
 * logical clock (both `DeltaSyncedLWWMap`), and a Y.Map (a Y.Doc with `TrysteroProvider`). All
 * three share each replica's room, so the same network weather hits them: same latency, same
 * partitions, same offline spells. Runs are deterministic for a given scenario.
 */
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { channelKey, docChannelKey } from '../channel-key.js'
import { TrysteroYjsError } from '../errors.js'
import { HybridLogicalClock, WallClock, type Stamp } from '../lww/clocks.js'
import type { JsonValue } from '../lww/json-value.js'
import { decodeLwwMessage } from '../lww/lww-wire.js'
import { parseMapState } from '../lww/lww-state.js'
import { DeltaSyncedLWWMap } from '../lww/synced-lww.js'
import { roomChannelName } from '../protocol/room-messages.js'
import { MemoryNetwork, type LatencyFunction, type MemoryPeer } from '../testing/memory-network.js'
import { TrysteroProvider } from '../trystero-provider.js'
import { explainContests, type Contest } from './explain.js'
import { isWrite, type Scenario, type ScenarioReplica, type ScenarioStep } from './scenario.js'

/** The three sides compared. */
export type SideId = 'lww-wall' | 'lww-hlc' | 'ymap'

/** Each side's name in tables. */
export const sideLabels: Record<SideId, string> = {
  'lww-wall': 'LWW, wall clock',
  'lww-hlc': 'LWW, hybrid logical clock',
  ymap: 'Y.Map'
}

/** One write of the script, as it was made. */
export interface WriteRecord {
  /** Its position among the script's writes. */
  index: number
  /** The replica that made it. */
  replica: string
  /** That replica's Yjs client id. */
  clientId: number
  /** Virtual time of the write, in ms. */
  at: number
  /** A set or a delete. */
  op: 'set' | 'delete'
  /** The key written. */
  key: string
  /** The value set (absent for a delete). */
  value?: JsonValue
  /** Its stamp in the wall-clock LWW map. */
  wallStamp: Stamp
  /** Its stamp in the HLC LWW map. */
  hlcStamp: Stamp
  /** The Yjs item a set created; a delete creates none. */
  yItem: { client: number, clock: number } | null
  /** The value a set replaced in Yjs (the item's origin): `null` if the key had none there. */
  yOrigin: { client: number, clock: number } | null
  /** The Yjs item a delete removed; `null` if the key had no value at that replica. */
  yRemoved: { client: number, clock: number } | null
  /**
   * Per side, indexes of the earlier writes this replica had made or received when it made this
   * one. Each side's messages travel on their own, so each side knows different things at a time.
   */
  saw: Record<SideId, number[]>
}

/** What one side ended with. */
export interface SideResult {
  /** Which side. */
  side: SideId
  /** Its name in tables. */
  label: string
  /** Final key/values at every replica. */
  values: Record<string, Record<string, JsonValue>>
  /** Every replica ended with the same values. */
  converged: boolean
  /** Keys written more than once: who won, who lost, and why. */
  contests: Contest[]
  /** Writes that lost to a write their replica had already seen: a causally later write lost. */
  causallyLaterLost: number
  /** Payload bytes and messages this side put on the wire (Trystero adds 103 bytes per message). */
  traffic: { messages: number, bytes: number }
  /** What the first replica keeps to go on merging correctly. */
  metadata: { stateBytes: number, tombstones: number, stateVectorBytes?: number }
}

/** What `runScenario` reports. */
export interface ScenarioResult {
  /** The scenario played. */
  scenario: Scenario
  /** Every write of the script, as made. */
  writes: WriteRecord[]
  /** The three sides' outcomes. */
  sides: SideResult[]
  /** Keys whose final value (at the first replica) differs from Y.Map's. */
  differsFromYMap: { 'lww-wall': string[], 'lww-hlc': string[] }
  /** The room channel (which peer has what open), shared by the three sides. */
  roomTraffic: { messages: number, bytes: number }
  /**
   * Writes that had seen different earlier writes of their key on the HLC side than on the Y.Map
   * side (deletes that removed nothing are left out: they leave no trace in Yjs). The network is
   * the same for both, but the protocols are not: on (re)connection LWW pushes its state while
   * Yjs asks for what it lacks (step 1, then step 2), half a round trip more.
   */
  historiesDiffer: number
}

interface LiveReplica {
  spec: ScenarioReplica
  peer: MemoryPeer
  wall: DeltaSyncedLWWMap
  hlc: DeltaSyncedLWWMap
  doc: Y.Doc
  ymap: Y.Map<JsonValue>
  provider: TrysteroProvider
  /** Write indexes this replica made or received, per LWW side (from the messages delivered). */
  seen: { 'lww-wall': Set<number>, 'lww-hlc': Set<number> }
}

const appId = 'trystero-yjs-compare'
const roomId = 'compare'
const wallChannel = 'wall'
const hlcChannel = 'hlc'
const docName = ''

const stampId = (stamp: Stamp): string => `${stamp.time}:${stamp.counter}:${stamp.writer}`

/**
 * The same weather for the three sides: a delay drawn from the link and the send time, not from
 * how many messages went before, so the LWW deltas and the Yjs update of one write, sent on one
 * link in one tick, arrive together.
 */
const sameWeather = (latency: Scenario['latencyMs'], seed: number): number | LatencyFunction => {
  if (typeof latency === 'number') return latency
  const [min, max] = latency
  return ({ from, to, time }) => min + (fnv1a(`${seed}|${from}|${to}|${time}`) % (max - min + 1))
}

const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0
  return hash
}

/**
 * Plays a scenario on the in-memory network: every replica runs an LWW map on a wall clock, one on
 * a hybrid logical clock, and a Y.Map synced by a TrysteroProvider; reports what each side kept.
 */
export const runScenario = async (scenario: Scenario): Promise<ScenarioResult> => {
  validateScenario(scenario)
  const network = new MemoryNetwork({ latency: sameWeather(scenario.latencyMs, scenario.seed ?? 1) })
  const live = new Map<string, LiveReplica>()
  const bySelfId = new Map<string, LiveReplica>()
  const writes: WriteRecord[] = []
  const writeByStamp = { 'lww-wall': new Map<string, number>(), 'lww-hlc': new Map<string, number>() }
  const sideOfChannel = new Map<string, 'lww-wall' | 'lww-hlc'>([[channelKey('lm', wallChannel), 'lww-wall'], [channelKey('lm', hlcChannel), 'lww-hlc']])
  const offline = new Set<string>()
  let groups = new Map<string, number>()

  // What an LWW replica has seen is what reached it: every entry of every delivered message.
  const stopObserving = network.observeDeliveries(({ to, action, payload }) => {
    const side = sideOfChannel.get(action)
    const receiver = bySelfId.get(to)
    if (side === undefined || receiver === undefined || !(payload instanceof Uint8Array)) return
    for (const entry of parseMapState(decodeLwwMessage(payload).state).values()) {
      const index = writeByStamp[side].get(stampId(entry.stamp))
      if (index !== undefined) receiver.seen[side].add(index)
    }
  })

  const applyLinks = (): void => {
    const reachable = (a: string, b: string): boolean =>
      !offline.has(a) && !offline.has(b) && (groups.get(a) ?? 0) === (groups.get(b) ?? 0)
    const joined = [...live.values()]
    for (let i = 0; i < joined.length; i++) {
      for (let j = i + 1; j < joined.length; j++) {
        const [a, b] = [joined[i]!, joined[j]!]
        if (reachable(a.spec.id, b.spec.id)) network.restoreLink(a.peer.selfId, b.peer.selfId)
        else network.cutLink(a.peer.selfId, b.peer.selfId)
      }
    }
  }

  // The script's time 0 is when the replicas that start together have met and synced: scenarios
  // start from replicas in sync, and stamps read scenario time.
  let epoch = 0
  const scenarioTime = (): number => network.now - epoch

  const join = (spec: ScenarioReplica): void => {
    const peer = network.createPeer(`replica-${spec.id}`)
    const room = peer.joinRoom({ appId }, roomId)
    const skewMs = spec.clockSkewMs ?? 0
    const doc = new Y.Doc()
    doc.clientID = spec.clientId
    // No presence: awareness messages would only blur the byte counts.
    const awareness = new Awareness(doc)
    awareness.setLocalState(null)
    const replica: LiveReplica = {
      spec,
      peer,
      wall: new DeltaSyncedLWWMap(room, wallChannel, { writerId: spec.id, clock: new WallClock({ now: scenarioTime, skewMs }) }),
      hlc: new DeltaSyncedLWWMap(room, hlcChannel, { writerId: spec.id, clock: new HybridLogicalClock({ now: () => scenarioTime() + skewMs }) }),
      doc,
      ymap: doc.getMap<JsonValue>('map'),
      provider: new TrysteroProvider(doc, room, { awareness, docName }),
      seen: { 'lww-wall': new Set(), 'lww-hlc': new Set() }
    }
    live.set(spec.id, replica)
    bySelfId.set(peer.selfId, replica)
    applyLinks()
  }

  const write = (step: Extract<ScenarioStep, { replica: string }>): void => {
    const replica = live.get(step.replica)!
    const index = writes.length
    const isSet = 'set' in step
    const key = isSet ? step.set : step.delete
    const saw = {
      'lww-wall': [...replica.seen['lww-wall']].sort((a, b) => a - b),
      'lww-hlc': [...replica.seen['lww-hlc']].sort((a, b) => a - b),
      ymap: writesKnownToDoc(replica.doc, writes.filter((w) => w.key === key))
    }
    const wallStamp = isSet ? replica.wall.set(key, step.value) : replica.wall.delete(key)
    const hlcStamp = isSet ? replica.hlc.set(key, step.value) : replica.hlc.delete(key)
    const before = replica.ymap._map.get(key)
    const yRemoved = !isSet && before !== undefined && !before.deleted ? { client: before.id.client, clock: before.id.clock } : null
    let yItem: WriteRecord['yItem'] = null
    let yOrigin: WriteRecord['yOrigin'] = null
    if (isSet) {
      replica.ymap.set(key, step.value)
      const item = replica.ymap._map.get(key)!
      yItem = { client: item.id.client, clock: item.id.clock }
      yOrigin = item.origin === null ? null : { client: item.origin.client, clock: item.origin.clock }
    } else {
      replica.ymap.delete(key)
    }
    writes.push({
      index, replica: step.replica, clientId: replica.spec.clientId, at: step.at, op: isSet ? 'set' : 'delete', key,
      ...(isSet ? { value: step.value } : {}), wallStamp, hlcStamp, yItem, yOrigin, yRemoved, saw
    })
    writeByStamp['lww-wall'].set(stampId(wallStamp), index)
    writeByStamp['lww-hlc'].set(stampId(hlcStamp), index)
    replica.seen['lww-wall'].add(index)
    replica.seen['lww-hlc'].add(index)
  }

  const run = (step: ScenarioStep): void => {
    if (isWrite(step)) write(step)
    else if ('offline' in step) offline.add(step.offline)
    else if ('online' in step) offline.delete(step.online)
    else if ('partition' in step) groups = new Map(step.partition.flatMap((members, i) => members.map((id) => [id, i + 1] as const)))
    else groups = new Map()
    if (!isWrite(step)) applyLinks()
  }

  for (const spec of scenario.replicas) if ((spec.joinAt ?? 0) === 0) join(spec)
  await network.settle()
  epoch = network.now
  for (const spec of scenario.replicas) if ((spec.joinAt ?? 0) > 0) network.at(epoch + spec.joinAt!, () => join(spec))
  for (const step of scenario.steps) network.at(epoch + step.at, () => run(step))
  await network.settle()
  stopObserving()

  const replicas = [...live.values()]
  const result = collect(scenario, network, replicas, writes)
  await Promise.all(replicas.flatMap((r) => [r.provider.destroy(), r.wall.destroy(), r.hlc.destroy()]))
  for (const replica of replicas) replica.provider.awareness.destroy()
  return result
}

const collect = (scenario: Scenario, network: MemoryNetwork, replicas: LiveReplica[], writes: WriteRecord[]): ScenarioResult => {
  const traffic = (action: string): { messages: number, bytes: number } => {
    const counts = network.stats.byAction[action]
    return { messages: counts?.messages ?? 0, bytes: counts?.bytes ?? 0 }
  }
  // Code-unit order, not the locale's: the same on every machine.
  const sorted = (entries: Array<[string, JsonValue]>): Record<string, JsonValue> =>
    Object.fromEntries(entries.sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
  const first = replicas[0]!

  const lwwSide = (side: 'lww-wall' | 'lww-hlc'): SideResult => {
    const mapOf = (r: LiveReplica): DeltaSyncedLWWMap => side === 'lww-wall' ? r.wall : r.hlc
    const values = Object.fromEntries(replicas.map((r) => [r.spec.id, sorted(mapOf(r).entries())]))
    const contests = explainContests(side, writes, (key) => {
      const entry = mapOf(first).map.entry(key)
      return entry === undefined ? null : { stamp: entry.stamp, deleted: entry.deleted }
    }, null)
    const map = mapOf(first).map
    return {
      side,
      label: sideLabels[side],
      values,
      converged: allEqual(Object.values(values)),
      contests,
      causallyLaterLost: contests.reduce((n, c) => n + c.causallyLaterLost.length, 0),
      traffic: traffic(channelKey('lm', side === 'lww-wall' ? wallChannel : hlcChannel)),
      metadata: { stateBytes: new TextEncoder().encode(JSON.stringify(map.toJSON())).byteLength, tombstones: map.tombstones }
    }
  }

  const ymapSide = (): SideResult => {
    const values = Object.fromEntries(replicas.map((r) => [r.spec.id, sorted(Object.entries(r.ymap.toJSON()))]))
    // The key's last item: its value if not deleted, else the value the winning delete removed.
    const contests = explainContests('ymap', writes, () => null, (key) => {
      const item = first.ymap._map.get(key)
      return item === undefined ? null : { client: item.id.client, clock: item.id.clock, deleted: item.deleted }
    })
    return {
      side: 'ymap',
      label: sideLabels.ymap,
      values,
      converged: allEqual(Object.values(values)),
      contests,
      causallyLaterLost: contests.reduce((n, c) => n + c.causallyLaterLost.length, 0),
      traffic: traffic(docChannelKey(docName)),
      metadata: {
        stateBytes: Y.encodeStateAsUpdate(first.doc).byteLength,
        tombstones: deletedItemsOf(first.ymap),
        stateVectorBytes: Y.encodeStateVector(first.doc).byteLength
      }
    }
  }

  const sides = [lwwSide('lww-wall'), lwwSide('lww-hlc'), ymapSide()]
  const firstValues = (side: SideResult): Record<string, JsonValue> => side.values[first.spec.id]!
  const differs = (side: SideResult): string[] => {
    const [mine, theirs] = [firstValues(side), firstValues(sides[2]!)]
    return [...new Set([...Object.keys(mine), ...Object.keys(theirs)])]
      .filter((key) => JSON.stringify(mine[key]) !== JSON.stringify(theirs[key])).sort()
  }
  return {
    scenario,
    writes,
    sides,
    differsFromYMap: { 'lww-wall': differs(sides[0]!), 'lww-hlc': differs(sides[1]!) },
    roomTraffic: traffic(roomChannelName),
    historiesDiffer: writes.filter((write) => {
      const traceless = (w: WriteRecord): boolean => w.op === 'delete' && w.yRemoved === null
      const ofKey = (indexes: number[]): string => indexes.filter((i) => writes[i]!.key === write.key && !traceless(writes[i]!)).join(',')
      return ofKey(write.saw['lww-hlc']) !== ofKey(write.saw.ymap)
    }).length
  }
}

/**
 * The writes a Y.Doc knows of: a set if its item is within the state vector, a delete if the
 * item it removed is deleted here (a delete that removed nothing leaves no trace to know).
 */
const writesKnownToDoc = (doc: Y.Doc, earlier: WriteRecord[]): number[] => {
  const stateVector = Y.decodeStateVector(Y.encodeStateVector(doc))
  const deleteSet = earlier.some((w) => w.yRemoved !== null) ? Y.createDeleteSetFromStructStore(doc.store) : null
  return earlier.filter((w) => w.yItem !== null
    ? (stateVector.get(w.yItem.client) ?? 0) > w.yItem.clock
    : w.yRemoved !== null && Y.isDeleted(deleteSet!, Y.createID(w.yRemoved.client, w.yRemoved.clock))
  ).map((w) => w.index)
}

/** Y.Map keeps every overwritten or deleted value as a deleted item (its content is dropped). */
const deletedItemsOf = (ymap: Y.Map<JsonValue>): number => {
  let count = 0
  for (const structs of ymap.doc!.store.clients.values()) {
    for (const struct of structs) if (struct instanceof Y.Item && struct.deleted && struct.parent === ymap) count += struct.length
  }
  return count
}

const allEqual = (values: unknown[]): boolean => new Set(values.map((v) => JSON.stringify(v))).size <= 1

const validateScenario = (scenario: Scenario): void => {
  const ids = new Set(scenario.replicas.map((r) => r.id))
  const clients = new Set(scenario.replicas.map((r) => r.clientId))
  if (ids.size !== scenario.replicas.length || clients.size !== scenario.replicas.length) {
    throw new TrysteroYjsError(`scenario ${scenario.id}: replica ids and Yjs client ids must be unique`)
  }
  const joinAt = new Map(scenario.replicas.map((r) => [r.id, r.joinAt ?? 0]))
  for (const step of scenario.steps) {
    const named = isWrite(step) ? [step.replica] : 'offline' in step ? [step.offline] : 'online' in step ? [step.online] : 'partition' in step ? step.partition.flat() : []
    for (const id of named) {
      if (!ids.has(id)) throw new TrysteroYjsError(`scenario ${scenario.id}: step at ${step.at} ms names unknown replica ${JSON.stringify(id)}`)
      if (isWrite(step) && step.at < joinAt.get(id)!) throw new TrysteroYjsError(`scenario ${scenario.id}: ${id} writes at ${step.at} ms, before it joins at ${joinAt.get(id)} ms`)
    }
  }
}
