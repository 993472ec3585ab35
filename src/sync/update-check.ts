/**
 * Checks a peer's Yjs update (format V1, or V2 with `format: 'v2'`) against the document it is
 * meant for, *before* `Y.applyUpdate`, so that an update is applied whole or not at all. The walk
 * reads the update's fields through `update-fields.ts` (V1) or `update-fields-v2.ts` (V2), so
 * that both formats get the same checks; V2 adds one of its own (`maxStructs`).
 *
 * Why `Y.decodeUpdate` is not enough: Yjs reads an update's structs, integrates them one by one,
 * then reads the delete set. Integration looks up the structs an item refers to (its origin,
 * right origin, parent) and assumes they exist; an update that decodes fine can make it throw
 * halfway, after part of the update is in the document (yjs 13.6.33, every case below measured by
 * test/unit/update-check.test.ts):
 *
 * - an origin, right origin or parent id under the item's *own* client id at or after the item's
 *   clock: Yjs treats references to other clients as "missing, wait for them", but looks up
 *   same-client references directly (`getItemCleanEnd` / `getItemCleanStart` / `getItem` on a
 *   struct that is not there);
 * - an item that starts before the document's state for its client and ends after it (Yjs
 *   integrates the unknown tail) where the known struct just before the tail is a GC: Yjs reads
 *   `.right` / `.origin` of the GC and throws; where it is an item of another parent, the tail is
 *   linked into one list while counted in another. `prepareUpdate` trims such updates to the
 *   unknown part first (`Y.diffUpdate`), which is what Yjs does for honest ones;
 * - a struct of length zero: Yjs throws on it, or integrates it and every later
 *   `Y.encodeStateAsUpdate` of the document throws (a step 2 never answers again);
 * - what Yjs cannot re-encode in format V2 when it keeps it pending (after integrating the rest):
 *   an empty deletion range (throws), deletion ranges out of order or a client twice in the delete
 *   set (kept as *other* ranges), an embed or format value nested thousands deep (lib0's
 *   `writeAny` overflows the stack);
 * - shared types nested deeper than the stack allows: integration works, but deleting the outer
 *   type (remotely or locally, later) recurses once per level and throws half-way (measured: 3,000
 *   levels, 24 KB of update, in Node 20);
 * - a subdocument whose options set `gcFilter`: it is not a function once decoded, so every later
 *   transaction of the subdocument that deletes something throws.
 *
 * The check also rejects what Yjs accepts without throwing but no Yjs peer writes, and that would
 * make this report or the document lie: a client id twice in one update (Yjs silently drops the
 * first run), clocks past 2^53, bytes after the delete set, a subdocument options' `guid`.
 * (A parent id naming an item that is not a type does not throw: Yjs turns the item into a GC.)
 *
 * Cost: one walk over the bytes with lib0-style reads, no object per struct (texts are checked as
 * UTF-8 and measured in UTF-16 units without being decoded; long ones by lib0's own fatal
 * decoder). A second walk, recording parents, runs only when the update creates shared types (to
 * measure their nesting).
 * `bench/scenarios/update-check-cost.ts` measures it against `Y.decodeUpdate` and a cold
 * `Y.applyUpdate`.
 */
import * as Y from 'yjs'
import { V1Fields, type StructFields } from './update-fields.js'
import { V2Fields } from './update-fields-v2.js'
import { Rejection, maxSafe, type CheckLimit } from './update-reader.js'

export type { CheckLimit } from './update-reader.js'

/** Limits of {@link checkUpdate}. */
export interface UpdateCheckOptions {
  /**
   * Deepest nesting of shared types (a Y.Map in a Y.Array in …) an update may create, counting
   * a root type's children as depth 1. Default {@link defaultMaxTypeDepth}.
   */
  maxTypeDepth?: number
  /**
   * Deepest nesting of arrays/objects in a JSON-like value (Y.Map values, Y.Array items).
   * Default {@link defaultMaxValueDepth}.
   */
  maxValueDepth?: number
  /** The update's format: `v1` (default, what y-protocols sends) or `v2` (`Y.encodeStateAsUpdateV2`). */
  format?: UpdateFormat
  /**
   * V2 only: the most structs the update may announce. V2 run-length encodes its columns, so a
   * few bytes can announce any number of structs, each of which Yjs would build; a V1 update
   * needs 2 bytes a struct, so the default, {@link defaultMaxStructs}, is what 128 MiB of V1 holds.
   */
  maxStructs?: number
}

export type UpdateFormat = 'v1' | 'v2'

/** What a V1 update of 128 MiB (the provider's default `maxMessageBytes`) can hold: 2 bytes a struct. */
export const defaultMaxStructs = 64 * 1024 * 1024

/**
 * Deleting a type nested 3,000 deep overflows Node 20's stack inside Yjs (2,000 does not); 512
 * leaves room for a caller's own frames and for smaller browser stacks. Editors nest far less
 * (ProseMirror documents: tens of levels).
 */
export const defaultMaxTypeDepth = 512

/**
 * lib0's `readAny` recurses once per level and overflowed Node 20's stack between 4,000 and 6,000
 * levels (depending on JIT state); 1,000 keeps a wide margin.
 */
export const defaultMaxValueDepth = 1000

/** Clocks `[from, to)` of one client id. */
export interface ClockRange {
  from: number
  to: number
}

/** What an accepted update carries, relative to the document it was checked against. */
export interface UpdateFacts {
  /**
   * For each client id with structs (items or GCs) in the update: the clock of its first struct
   * and the end of its last one. Skips (gaps of a merged update) are inside, never at the ends.
   */
  ranges: Map<number, ClockRange>
  /**
   * The part of `ranges` beyond the document's state vector: the client ids that gain structs,
   * and which. An edit under a client id that is not the sending peer's own shows here.
   */
  gains: Map<number, ClockRange>
  /**
   * For each client id, the state (next clock) the document must reach, from elsewhere, before
   * the whole update can be integrated: gaps before or between a client's structs, references to
   * structs neither the document nor the update has, deletions of structs neither has. Empty when
   * nothing is missing. Structs of the update count as there once their gaps are filled, so this
   * is an estimate from the bytes alone: Yjs may still keep structs waiting (a cycle of
   * references, say); after applying, `doc.store.pendingStructs` / `pendingDs` say what it kept.
   */
  needs: Map<number, number>
  /**
   * An item starts before the document's state for its client and ends after it. Apply the
   * update trimmed to what the document lacks (`prepareUpdate` does it) rather than as it is.
   */
  overlaps: boolean
  /** Structs (items, GCs and skips). */
  structs: number
  /** Ranges in the delete set. */
  deleteRanges: number
  /** Items that create a shared type. */
  types: number
  /** Items that embed a subdocument. */
  subdocs: number
}

export type UpdateCheck =
  | ({ ok: true } & UpdateFacts)
  | {
    ok: false
    /** What is wrong, precise enough for a log line: field, ids, figures. */
    cause: string
    /** Byte offset in the update where the check stopped. */
    offset: number
    /** Set when the update went over a limit of the check (`maxStructs`) rather than being malformed. */
    limit?: CheckLimit
  }

const enum ParentKind { None, Root, ParentId, Origin, RightOrigin }

/**
 * Parents of every struct of the update, recorded by the second walk (only for updates that
 * create types): enough to resolve which type each new type is nested in. Typed arrays, grown by
 * doubling: one record per struct, no object.
 */
class ParentRecord {
  size = 0
  clients: Float64Array = new Float64Array(64)
  clocks: Float64Array = new Float64Array(64)
  lengths: Float64Array = new Float64Array(64)
  refClients: Float64Array = new Float64Array(64)
  refClocks: Float64Array = new Float64Array(64)
  offsets: Float64Array = new Float64Array(64)
  kinds: Uint8Array = new Uint8Array(64)
  isType: Uint8Array = new Uint8Array(64)
  /** Index range of each client's structs, in clock order. */
  readonly byClient = new Map<number, { start: number, end: number }>()

  add (client: number, clock: number, length: number, kind: ParentKind, refClient: number, refClock: number, isType: boolean, offset: number): void {
    if (this.size === this.clocks.length) this.grow()
    const i = this.size++
    this.clients[i] = client
    this.clocks[i] = clock
    this.lengths[i] = length
    this.kinds[i] = kind
    this.refClients[i] = refClient
    this.refClocks[i] = refClock
    this.isType[i] = isType ? 1 : 0
    this.offsets[i] = offset
  }

  private grow (): void {
    const n = this.clocks.length * 2
    const f = (a: Float64Array): Float64Array => { const b = new Float64Array(n); b.set(a); return b }
    const u = (a: Uint8Array): Uint8Array => { const b = new Uint8Array(n); b.set(a); return b }
    this.clients = f(this.clients)
    this.clocks = f(this.clocks)
    this.lengths = f(this.lengths)
    this.refClients = f(this.refClients)
    this.refClocks = f(this.refClocks)
    this.offsets = f(this.offsets)
    this.kinds = u(this.kinds)
    this.isType = u(this.isType)
  }
}

/** Next clock of `client` in the document. */
const stateOf = (store: Y.Doc['store'], client: number): number => {
  const structs = store.clients.get(client)
  if (structs === undefined) return 0
  const last = structs[structs.length - 1]!
  return last.id.clock + last.length
}

const idText = (client: number, clock: number): string => `(${client}, ${clock})`

/**
 * The walk: every field Yjs reads, in Yjs's order (`readClientsStructRefs`, content readers,
 * `readAndApplyDeleteSet`), with the checks of the module comment.
 */
const walk = (r: StructFields, doc: Y.Doc, maxValueDepth: number, record: ParentRecord | null): UpdateFacts => {
  const store = doc.store
  const ranges = new Map<number, ClockRange>()
  const gains = new Map<number, ClockRange>()
  const needs = new Map<number, number>()
  const need = (client: number, clock: number): void => {
    if (clock > (needs.get(client) ?? 0)) needs.set(client, clock)
  }
  /** For each client id: how far the document and this update reach, gaps aside. */
  const reach = new Map<number, number>()
  /** Highest clock referenced under each other client id, where the document lacks it. */
  const outsideRefs = new Map<number, number>()
  const seen = new Set<number>()
  let overlaps = false
  let structCount = 0
  let types = 0
  let subdocs = 0

  const clientCount = r.clientCount()
  for (let c = 0; c < clientCount; c++) {
    const count = r.structCount()
    const client = r.client()
    let clock = r.clock()
    r.checkStructCount(count, client)
    if (seen.has(client)) r.fail(`client ${client} appears twice (Yjs would drop its first structs)`)
    seen.add(client)
    const state = stateOf(store, client)
    let covered = state
    let runEnd = -1
    let from = -1
    let to = -1
    const recordStart = record?.size ?? 0
    for (let s = 0; s < count; s++) {
      // Offsets are for the parent record only (the second walk).
      const offset = record === null ? 0 : r.offset
      const info = r.info()
      const ref = info & 31
      let length: number
      let isItem = false
      let parentKind = ParentKind.None
      let refClient = 0
      let refClock = 0
      let isType = false
      if (ref === 0) {
        length = r.gcLength()
      } else if (info === 10) {
        length = r.skipLength()
      } else if (ref === 10 || ref > 9) {
        // Y.decodeUpdate throws on both; Yjs's integration would read 10 with flags as a skip.
        r.fail(ref === 10 ? `skip with item flags (info ${info})` : `unknown content ref ${ref}`)
      } else {
        isItem = true
        const hasOrigin = (info & 0x80) !== 0
        const hasRightOrigin = (info & 0x40) !== 0
        if (hasOrigin) {
          const oc = r.originClient()
          const ok = r.originClock()
          if (oc === client) {
            if (ok >= clock) r.fail(`item ${idText(client, clock)}: origin ${idText(oc, ok)} is not before it`)
          } else if (ok >= stateOf(store, oc) && ok > (outsideRefs.get(oc) ?? -1)) outsideRefs.set(oc, ok)
          parentKind = ParentKind.Origin
          refClient = oc
          refClock = ok
        }
        if (hasRightOrigin) {
          const rc = r.rightClient()
          const rk = r.rightClock()
          if (rc === client) {
            if (rk >= clock) r.fail(`item ${idText(client, clock)}: right origin ${idText(rc, rk)} is not before it`)
          } else if (rk >= stateOf(store, rc) && rk > (outsideRefs.get(rc) ?? -1)) outsideRefs.set(rc, rk)
          if (!hasOrigin) {
            parentKind = ParentKind.RightOrigin
            refClient = rc
            refClock = rk
          }
        }
        if (!hasOrigin && !hasRightOrigin) {
          if (r.parentIsRoot()) {
            r.rootName()
            parentKind = ParentKind.Root
          } else {
            const pc = r.parentClient()
            const pk = r.parentClock()
            if (pc === client) {
              if (pk >= clock) r.fail(`item ${idText(client, clock)}: parent ${idText(pc, pk)} is not before it`)
            } else if (pk >= stateOf(store, pc) && pk > (outsideRefs.get(pc) ?? -1)) outsideRefs.set(pc, pk)
            parentKind = ParentKind.ParentId
            refClient = pc
            refClock = pk
          }
          if ((info & 0x20) !== 0) r.parentSub()
        }
        switch (ref) {
          case 1: length = r.deleted(); break
          case 2: length = r.jsonValues(maxValueDepth); break
          case 3: r.binary(); length = 1; break
          case 4: length = r.text(); break
          case 5: r.embed(maxValueDepth); length = 1; break
          case 6: r.format(maxValueDepth); length = 1; break
          case 7: {
            const typeRef = r.typeRef()
            if (typeRef > 6) r.fail(`unknown type ref ${typeRef}`)
            // Y.XmlElement and Y.XmlHook carry a name.
            if (typeRef === 3 || typeRef === 5) r.elementName()
            length = 1
            types++
            isType = true
            break
          }
          case 8: length = r.anyValues(maxValueDepth); break
          default: { // 9: ContentDoc
            r.subdoc(maxValueDepth)
            length = 1
            subdocs++
          }
        }
      }
      if (length === 0) r.fail(`struct ${idText(client, clock)} has length 0`)
      if (length > maxSafe - clock) r.fail(`struct ${idText(client, clock)} of length ${length} ends past 2^53`)
      structCount++
      if (record !== null) record.add(client, clock, length, parentKind, refClient, refClock, isType, offset)
      if (info !== 10) {
        const end = clock + length
        if (from === -1) from = clock
        to = end
        // A struct beyond what the document has, not continuing the previous one, opens a gap.
        if (clock > covered) {
          if (clock !== runEnd) need(client, clock)
        } else if (end > covered) covered = end
        runEnd = end
        // Only the first struct that is partly known can straddle the state.
        if (isItem && clock < state && end > state) overlaps = true
      }
      clock += length
    }
    if (record !== null) record.byClient.set(client, { start: recordStart, end: record.size })
    // References and deletions within the update's own structs wait, if at all, for their gaps.
    reach.set(client, Math.max(covered, to))
    if (from !== -1) {
      ranges.set(client, { from, to })
      if (to > state) gains.set(client, { from: Math.max(from, state), to })
    }
  }

  let deleteRanges = 0
  const dsClients = r.dsClientCount()
  const dsSeen = new Set<number>()
  for (let c = 0; c < dsClients; c++) {
    const client = r.dsClient()
    const count = r.dsRangeCount(client)
    // Yjs re-encodes the deletions it cannot apply yet in format V2, as differences from the
    // previous range: ranges out of order or repeated clients turn into other ranges there, and
    // an empty range throws. No Yjs peer writes any of these.
    if (dsSeen.has(client)) r.fail(`client ${client} appears twice in the delete set`)
    dsSeen.add(client)
    const covered = reach.get(client) ?? stateOf(store, client)
    let previousEnd = 0
    for (let i = 0; i < count; i++) {
      const clock = r.dsClock()
      const length = r.dsLength()
      if (length === 0) r.fail(`deletion ${idText(client, clock)} has length 0`)
      if (length > maxSafe - clock) r.fail(`deletion ${idText(client, clock)} of length ${length} ends past 2^53`)
      if (clock < previousEnd) r.fail(`deletion ${idText(client, clock)} starts before the previous one ends (${previousEnd})`)
      previousEnd = clock + length
      if (previousEnd > covered) need(client, previousEnd)
      deleteRanges++
    }
  }
  r.end()

  for (const [client, clock] of outsideRefs) {
    if (clock >= (reach.get(client) ?? stateOf(store, client))) need(client, clock + 1)
  }
  return { ranges, gains, needs, overlaps, structs: structCount, deleteRanges, types, subdocs }
}

const unresolved = -2
const noType = -1

/** Cached depth of a document's types: a type never moves, so the cache never goes stale. */
const typeDepths = new WeakMap<object, number>()

/** Depth of a type in the document: 0 for a root type, 1 for a type in a root type, … */
const depthOfType = (type: Y.AbstractType<unknown>): number => {
  // Types from the type up to a root (or to a type whose depth is known), then numbered downwards.
  const chain: Array<Y.AbstractType<unknown>> = []
  let depth = 0
  let current: Y.AbstractType<unknown> = type
  for (;;) {
    const cached = typeDepths.get(current)
    if (cached !== undefined) {
      depth = cached
      break
    }
    const item: Y.Item | null = current._item
    if (item === null) {
      typeDepths.set(current, 0)
      break
    }
    chain.push(current)
    // A type whose item lost its parent type is being garbage collected: it counts from 1.
    if (!(item.parent instanceof Y.AbstractType)) break
    current = item.parent
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    depth++
    typeDepths.set(chain[i]!, depth)
  }
  return depth
}

/**
 * Rejects an update that nests a new type deeper than `maxTypeDepth`. Each struct's parent is
 * resolved as Yjs's `getMissing` does (the parent id's type; else the origin's parent; else the
 * right origin's), through structs of the update and of the document.
 */
const checkTypeDepth = (doc: Y.Doc, record: ParentRecord, maxTypeDepth: number): Rejection | null => {
  const store = doc.store
  const n = record.size
  // Depth of each struct's parent type (0: a root type), or noType if it has none (it would
  // become a GC, or waits for something absent).
  const parentDepth = new Int32Array(n).fill(unresolved)
  const onStack = new Uint8Array(n)
  const findInUpdate = (client: number, clock: number): number => {
    const span = record.byClient.get(client)
    if (span === undefined) return -1
    let lo = span.start
    let hi = span.end - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const start = record.clocks[mid]!
      if (clock < start) hi = mid - 1
      else if (clock >= start + record.lengths[mid]!) lo = mid + 1
      else return mid
    }
    return -1
  }
  const depthInDocument = (kind: ParentKind, client: number, clock: number): number => {
    const structs = store.clients.get(client)!
    const struct = structs[Y.findIndexSS(structs, clock)]
    if (!(struct instanceof Y.Item)) return noType
    if (kind === ParentKind.ParentId) {
      return struct.content instanceof Y.ContentType ? depthOfType(struct.content.type) : noType
    }
    return struct.parent instanceof Y.AbstractType ? depthOfType(struct.parent) : noType
  }
  const stack: number[] = []
  for (let i = 0; i < n; i++) {
    if (record.isType[i] !== 1) continue
    stack.push(i)
    onStack[i] = 1
    while (stack.length > 0) {
      const j = stack[stack.length - 1]!
      if (parentDepth[j] !== unresolved) {
        stack.pop()
        onStack[j] = 0
        continue
      }
      const kind = record.kinds[j] as ParentKind
      let resolved: number = unresolved
      if (kind === ParentKind.None) resolved = noType
      else if (kind === ParentKind.Root) resolved = 0
      else {
        const client = record.refClients[j]!
        const clock = record.refClocks[j]!
        if (clock < stateOf(store, client)) resolved = depthInDocument(kind, client, clock)
        else {
          const target = findInUpdate(client, clock)
          if (target === -1) resolved = noType
          else if (parentDepth[target] !== unresolved) {
            const d = parentDepth[target]!
            resolved = kind === ParentKind.ParentId ? (record.isType[target] === 1 && d !== noType ? d + 1 : noType) : d
          } else if (onStack[target] === 1) {
            resolved = noType // a cycle: Yjs keeps these waiting forever
          } else {
            stack.push(target)
            onStack[target] = 1
            continue
          }
        }
      }
      parentDepth[j] = resolved
      stack.pop()
      onStack[j] = 0
    }
    const depth = parentDepth[i]!
    if (depth !== noType && depth + 1 > maxTypeDepth) {
      return new Rejection(`type ${idText(record.clients[i]!, record.clocks[i]!)} nested ${depth + 1} deep, over ${maxTypeDepth}`, record.offsets[i]!)
    }
  }
  return null
}

/**
 * Checks `update` (Yjs V1, from a peer) against `doc`: whether it is well-formed in every field
 * Yjs reads, and whether `Y.applyUpdate(doc, update)` could throw while integrating it.
 *
 * Guaranteed when it returns `ok: true` with `overlaps: false`, and the document neither changes
 * nor holds pending structs or deletions (`doc.store.pendingStructs` / `pendingDs`, which Yjs
 * retries inside the same apply; see `PendingQuarantine`) until the update is applied:
 * `Y.decodeUpdate` accepts it, and `Y.applyUpdate` throws from none of the causes listed in this
 * module's comment, found by reading yjs 13.6's integration code and by crafting updates.
 *
 * Not guaranteed: that Yjs has no other bug (apply with `applyUpdateReporting`, which tells
 * such a failure apart from an observer's); anything observers do; the CPU cost of integrating
 * (concurrent inserts at one position cost Yjs time quadratic in their number: 20,000
 * one-character updates, each under a new client id, took 72 s to apply; `gains` shows the new
 * client ids); that the update is *meant*: a peer may write under any client id (see `gains`) and
 * delete anything.
 *
 * @returns `{ok: false, cause, offset}`, or `{ok: true, …}` with the update's clock ranges, what
 * it adds beyond the document's state vector, and what it waits for.
 */
export const checkUpdate = (doc: Y.Doc, update: Uint8Array, options: UpdateCheckOptions = {}): UpdateCheck => {
  const maxValueDepth = options.maxValueDepth ?? defaultMaxValueDepth
  const maxTypeDepth = options.maxTypeDepth ?? defaultMaxTypeDepth
  const fields = (): StructFields => options.format === 'v2' ? new V2Fields(update, options.maxStructs ?? defaultMaxStructs) : new V1Fields(update)
  try {
    const facts = walk(fields(), doc, maxValueDepth, null)
    if (facts.types > 0) {
      const record = new ParentRecord()
      walk(fields(), doc, maxValueDepth, record)
      const rejection = checkTypeDepth(doc, record, maxTypeDepth)
      if (rejection !== null) return { ok: false, cause: rejection.cause, offset: rejection.offset }
    }
    return { ok: true, ...facts }
  } catch (error) {
    if (error instanceof Rejection) return { ok: false, cause: error.cause, offset: error.offset, ...(error.limit === undefined ? {} : { limit: error.limit }) }
    throw error
  }
}

/** `update` without what `doc` already has: items that straddle the document's state are cut at it. */
const trimKnown = (doc: Y.Doc, update: Uint8Array, format: UpdateFormat = 'v1'): Uint8Array =>
  format === 'v2' ? Y.diffUpdateV2(update, Y.encodeStateVector(doc)) : Y.diffUpdate(update, Y.encodeStateVector(doc))

export type PreparedUpdate =
  | { ok: true, /** What to apply: the update, or its trimmed form. */ update: Uint8Array, trimmed: boolean, facts: UpdateFacts }
  | { ok: false, cause: string, offset: number, limit?: CheckLimit }

/**
 * {@link checkUpdate}, and for an update that straddles the document's state, the same update
 * trimmed to what the document lacks, checked again. Yjs integrates an honest update's straddling
 * item exactly as it integrates the trimmed one; a crafted one can make it throw (module comment).
 */
export const prepareUpdate = (doc: Y.Doc, update: Uint8Array, options: UpdateCheckOptions = {}): PreparedUpdate => {
  const check = checkUpdate(doc, update, options)
  if (!check.ok) return check
  if (!check.overlaps) return { ok: true, update, trimmed: false, facts: toFacts(check) }
  const trimmed = trimKnown(doc, update, options.format)
  const again = checkUpdate(doc, trimmed, options)
  if (!again.ok) return { ok: false, cause: `after trimming what the document has: ${again.cause}`, offset: again.offset }
  if (again.overlaps) return { ok: false, cause: 'still straddles the document state after trimming', offset: 0 }
  return { ok: true, update: trimmed, trimmed: true, facts: { ...toFacts(again), ranges: check.ranges } }
}

const toFacts = ({ ok: _ok, ...facts }: { ok: true } & UpdateFacts): UpdateFacts => facts

/** How {@link applyUpdateReporting} went. */
export type ApplyOutcome =
  | {
    /** Yjs integrated the whole update. */
    status: 'applied'
    /**
     * Thrown after integration, if anything was: by app code (an observer, an `update` listener)
     * or by the work Yjs itself runs among the observers (Y.Text's cleanup of formatting marks
     * after a remote change). The update is in the document either way.
     */
    observerError?: unknown
  }
  | {
    /** Yjs threw while integrating: the document may hold part of the update. */
    status: 'integration-failed'
    error: unknown
    /** Also thrown, by app code during the transaction's cleanup, if any. */
    observerError?: unknown
  }
  | {
    /** A `beforeTransaction` / `beforeAllTransactions` listener threw; nothing was applied. */
    status: 'not-started'
    error: unknown
  }

/**
 * `Y.applyUpdate(doc, update, origin)` (or `Y.applyUpdateV2`), telling apart who threw. Yjs runs observers in a
 * `finally` after integration — also after integration *failed* (so a flag set on
 * `beforeObserverCalls` alone would not tell) — and an exception from them replaces Yjs's own.
 * So the update is applied inside an outer transaction (same origin, `local: false`, as
 * `Y.applyUpdate` makes it) whose body records whether `Y.applyUpdate` returned: if it did, the
 * whole update is in and whatever escaped came from app code; if it threw, that exception is
 * Yjs's, kept even when an observer's replaces it.
 *
 * Must not be called inside another transaction of `doc`: the observers would run later, outside.
 * (When a `beforeTransaction` listener throws, Yjs leaves the document inside an unfinished
 * transaction for good; that is reported as `not-started` and cannot be repaired here.)
 */
export const applyUpdateReporting = (doc: Y.Doc, update: Uint8Array, origin: unknown, format: UpdateFormat = 'v1'): ApplyOutcome => {
  let started = false
  let integrated = false
  let integrationError: { error: unknown } | null = null
  try {
    Y.transact(doc, () => {
      started = true
      try {
        if (format === 'v2') Y.applyUpdateV2(doc, update, origin)
        else Y.applyUpdate(doc, update, origin)
      } catch (error) {
        integrationError = { error }
        throw error
      }
      integrated = true
    }, origin, false)
  } catch (error) {
    if (!started) return { status: 'not-started', error }
    if (!integrated && integrationError !== null) {
      const yjsError = (integrationError as { error: unknown }).error
      return error === yjsError ? { status: 'integration-failed', error } : { status: 'integration-failed', error: yjsError, observerError: error }
    }
    return { status: 'applied', observerError: error }
  }
  return { status: 'applied' }
}
