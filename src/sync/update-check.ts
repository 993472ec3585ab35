/**
 * Checks a peer's Yjs update (format V1) against the document it is meant for, *before*
 * `Y.applyUpdate`, so that an update is applied whole or not at all.
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
import * as decoding from 'lib0/decoding'
import * as string from 'lib0/string'

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
}

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
  }

const maxSafe = Number.MAX_SAFE_INTEGER

/** Thrown inside the walk only; {@link checkUpdate} turns it into `{ok: false}`. */
class Rejection {
  constructor (readonly cause: string, readonly offset: number) {}
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

/** lib0's reads (same acceptance, same number arithmetic), bounds-checked, building nothing. */
class Reader {
  pos = 0
  constructor (readonly buf: Uint8Array) {}

  fail (cause: string): never {
    throw new Rejection(cause, this.pos)
  }

  remaining (): number {
    return this.buf.length - this.pos
  }

  u8 (): number {
    if (this.pos >= this.buf.length) this.fail('unexpected end of update')
    return this.buf[this.pos++]!
  }

  /** lib0 `readVarUint`, including its overflow rule; the result may exceed 2^53. */
  varUint (): number {
    const buf = this.buf
    let num = 0
    let mult = 1
    while (this.pos < buf.length) {
      const r = buf[this.pos++]!
      num += (r & 0x7f) * mult
      mult *= 128
      if (r < 0x80) return num
      if (num > maxSafe) this.fail('integer out of range')
    }
    return this.fail('unexpected end of update')
  }

  /** A clock, length or client id: Yjs does arithmetic on them, so they must be exact numbers. */
  safeUint (what: string): number {
    const n = this.varUint()
    if (n > maxSafe) this.fail(`${what} ${n} is over 2^53`)
    return n
  }

  /** lib0 `readVarInt` (signed, first byte holds 6 bits). */
  skipVarInt (): void {
    const first = this.u8()
    if ((first & 0x80) === 0) return
    let num = first & 0x3f
    let mult = 64
    const buf = this.buf
    while (this.pos < buf.length) {
      const r = buf[this.pos++]!
      num += (r & 0x7f) * mult
      mult *= 128
      if (r < 0x80) return
      if (num > maxSafe) this.fail('integer out of range')
    }
    this.fail('unexpected end of update')
  }

  skip (n: number): void {
    if (n > this.buf.length - this.pos) this.fail(`${n} bytes announced, ${this.buf.length - this.pos} left`)
    this.pos += n
  }

  /** A length-prefixed byte array (lib0 `readVarUint8Array`). */
  skipBytes (): void {
    this.skip(this.varUint())
  }

  /** A lib0 `varString`: checks it is UTF-8 as lib0's fatal decoder requires; returns its UTF-16 length. */
  string (what: string): number {
    const n = this.varUint()
    if (n > this.buf.length - this.pos) this.fail(`${what}: ${n} bytes announced, ${this.buf.length - this.pos} left`)
    const units = n < nativeFrom ? utf16Length(this.buf, this.pos, this.pos + n) : nativeUtf16Length(this.buf, this.pos, this.pos + n)
    if (units < 0) this.fail(`${what} is not valid UTF-8`)
    this.pos += n
    return units
  }

  /** The string itself, for the rare contents that must be parsed (JSON). */
  stringValue (what: string): string {
    const start = this.pos
    this.string(what)
    const decoder = decoding.createDecoder(this.buf)
    decoder.pos = start
    return decoding.readVarString(decoder)
  }

  /** lib0 `readAny`, without building the value; nesting bounded (lib0 recurses). */
  any (maxDepth: number): void {
    const counts: number[] = []
    const inObject: boolean[] = []
    let count = 1
    let object = false
    for (;;) {
      if (count === 0) {
        if (counts.length === 0) return
        count = counts.pop()!
        object = inObject.pop()!
        continue
      }
      count--
      if (object) this.string('object key')
      const tag = this.u8()
      switch (tag) {
        case 127: case 126: case 121: case 120: break // undefined, null, false, true
        case 125: this.skipVarInt(); break
        case 124: this.skip(4); break // float32
        case 123: case 122: this.skip(8); break // float64, bigint64
        case 119: this.string('string value'); break
        case 118: case 117: { // object, array
          const n = this.varUint()
          if (n > this.remaining()) this.fail(`${tag === 118 ? 'object' : 'array'} of ${n} entries in ${this.remaining()} bytes`)
          if (n === 0) break
          if (counts.length >= maxDepth) this.fail(`value nested deeper than ${maxDepth}`)
          counts.push(count)
          inObject.push(object)
          count = n
          object = tag === 118
          break
        }
        case 116: this.skipBytes(); break
        default: this.fail(`unknown value type ${tag}`)
      }
    }
  }
}

/**
 * UTF-16 length of the UTF-8 bytes `buf[start, end)`, or -1 if they are not well-formed UTF-8
 * (the WHATWG decoder with `fatal: true`, which lib0 uses, throws exactly then).
 */
const utf16Length = (buf: Uint8Array, start: number, end: number): number => {
  let units = 0
  let i = start
  while (i < end) {
    const b = buf[i]!
    if (b < 0x80) {
      i++
      units++
      continue
    }
    let needed: number
    let lower = 0x80
    let upper = 0xbf
    if (b >= 0xc2 && b <= 0xdf) needed = 1
    else if (b >= 0xe0 && b <= 0xef) {
      needed = 2
      if (b === 0xe0) lower = 0xa0
      else if (b === 0xed) upper = 0x9f // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      needed = 3
      if (b === 0xf0) lower = 0x90
      else if (b === 0xf4) upper = 0x8f // nothing past U+10FFFF
    } else return -1
    if (i + needed >= end) return -1
    const second = buf[i + 1]!
    if (second < lower || second > upper) return -1
    for (let k = 2; k <= needed; k++) {
      const c = buf[i + k]!
      if (c < 0x80 || c > 0xbf) return -1
    }
    i += needed + 1
    units += needed === 3 ? 2 : 1
  }
  return units
}

/**
 * Long strings are checked by the fatal UTF-8 decoder lib0 itself reads them with (native, so
 * faster per byte than the loop above, but a call and a string cost more than short texts do).
 */
const nativeFrom = 256

const nativeUtf16Length = (buf: Uint8Array, start: number, end: number): number => {
  const decoder = string.utf8TextDecoder
  if (decoder === null) return utf16Length(buf, start, end)
  try {
    return decoder.decode(buf.subarray(start, end)).length
  } catch {
    return -1
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

interface WalkResult extends UpdateFacts {}

/**
 * The walk: every field Yjs reads, in Yjs's order (`readClientsStructRefs`, content readers,
 * `readAndApplyDeleteSet`), with the checks of the module comment.
 */
const walk = (update: Uint8Array, doc: Y.Doc, maxValueDepth: number, record: ParentRecord | null): WalkResult => {
  const r: Reader = new Reader(update)
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

  const clientCount = r.varUint()
  // Each client's header is at least 3 bytes: a count larger than that is a lie, found cheaply.
  if (clientCount > r.remaining() / 3) r.fail(`${clientCount} clients announced in ${r.remaining()} bytes`)
  for (let c = 0; c < clientCount; c++) {
    const count = r.varUint()
    const client = r.safeUint('client id')
    let clock = r.safeUint('clock')
    // Each struct is at least 2 bytes (info and a length or a parent).
    if (count > r.remaining() / 2) r.fail(`${count} structs of client ${client} announced in ${r.remaining()} bytes`)
    if (seen.has(client)) r.fail(`client ${client} appears twice (Yjs would drop its first structs)`)
    seen.add(client)
    const state = stateOf(store, client)
    let covered = state
    let runEnd = -1
    let from = -1
    let to = -1
    const recordStart = record?.size ?? 0
    for (let s = 0; s < count; s++) {
      const offset = r.pos
      const info = r.u8()
      const ref = info & 31
      let length: number
      let isItem = false
      let parentKind = ParentKind.None
      let refClient = 0
      let refClock = 0
      let isType = false
      if (ref === 0) {
        length = r.safeUint('GC length')
      } else if (info === 10) {
        length = r.safeUint('skip length')
      } else if (ref === 10 || ref > 9) {
        // Y.decodeUpdate throws on both; Yjs's integration would read 10 with flags as a skip.
        r.fail(ref === 10 ? `skip with item flags (info ${info})` : `unknown content ref ${ref}`)
      } else {
        isItem = true
        const hasOrigin = (info & 0x80) !== 0
        const hasRightOrigin = (info & 0x40) !== 0
        if (hasOrigin) {
          const oc = r.safeUint('origin client')
          const ok = r.safeUint('origin clock')
          if (oc === client) {
            if (ok >= clock) r.fail(`item ${idText(client, clock)}: origin ${idText(oc, ok)} is not before it`)
          } else if (ok >= stateOf(store, oc) && ok > (outsideRefs.get(oc) ?? -1)) outsideRefs.set(oc, ok)
          parentKind = ParentKind.Origin
          refClient = oc
          refClock = ok
        }
        if (hasRightOrigin) {
          const rc = r.safeUint('right origin client')
          const rk = r.safeUint('right origin clock')
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
          if (r.varUint() === 1) {
            r.string('root type name')
            parentKind = ParentKind.Root
          } else {
            const pc = r.safeUint('parent client')
            const pk = r.safeUint('parent clock')
            if (pc === client) {
              if (pk >= clock) r.fail(`item ${idText(client, clock)}: parent ${idText(pc, pk)} is not before it`)
            } else if (pk >= stateOf(store, pc) && pk > (outsideRefs.get(pc) ?? -1)) outsideRefs.set(pc, pk)
            parentKind = ParentKind.ParentId
            refClient = pc
            refClock = pk
          }
          if ((info & 0x20) !== 0) r.string('map key')
        }
        switch (ref) {
          case 1: length = r.safeUint('deleted length'); break
          case 2: { // ContentJSON: strings, each 'undefined' or JSON text
            length = r.varUint()
            if (length > r.remaining()) r.fail(`${length} JSON values announced in ${r.remaining()} bytes`)
            for (let i = 0; i < length; i++) {
              const json = r.stringValue('JSON value')
              if (json !== 'undefined') parseJson(r, json, maxValueDepth)
            }
            break
          }
          case 3: r.skipBytes(); length = 1; break
          case 4: length = r.string('text'); break
          case 5: parseJson(r, r.stringValue('embed'), maxValueDepth); length = 1; break
          case 6: r.string('format key'); parseJson(r, r.stringValue('format value'), maxValueDepth); length = 1; break
          case 7: {
            const typeRef = r.varUint()
            if (typeRef > 6) r.fail(`unknown type ref ${typeRef}`)
            // Y.XmlElement and Y.XmlHook carry a name.
            if (typeRef === 3 || typeRef === 5) r.string('element name')
            length = 1
            types++
            isType = true
            break
          }
          case 8: {
            length = r.varUint()
            if (length > r.remaining()) r.fail(`${length} values announced in ${r.remaining()} bytes`)
            for (let i = 0; i < length; i++) r.any(maxValueDepth)
            break
          }
          default: { // 9: ContentDoc
            r.string('subdocument guid')
            checkSubdocOptions(r, maxValueDepth)
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
  const dsClients = r.varUint()
  if (dsClients > r.remaining() / 2) r.fail(`${dsClients} delete-set clients announced in ${r.remaining()} bytes`)
  const dsSeen = new Set<number>()
  for (let c = 0; c < dsClients; c++) {
    const client = r.safeUint('delete-set client id')
    const count = r.varUint()
    if (count > r.remaining() / 2) r.fail(`${count} deletions of client ${client} announced in ${r.remaining()} bytes`)
    // Yjs re-encodes the deletions it cannot apply yet in format V2, as differences from the
    // previous range: ranges out of order or repeated clients turn into other ranges there, and
    // an empty range throws. No Yjs peer writes any of these.
    if (dsSeen.has(client)) r.fail(`client ${client} appears twice in the delete set`)
    dsSeen.add(client)
    const covered = reach.get(client) ?? stateOf(store, client)
    let previousEnd = 0
    for (let i = 0; i < count; i++) {
      const clock = r.safeUint('deletion clock')
      const length = r.safeUint('deletion length')
      if (length === 0) r.fail(`deletion ${idText(client, clock)} has length 0`)
      if (length > maxSafe - clock) r.fail(`deletion ${idText(client, clock)} of length ${length} ends past 2^53`)
      if (clock < previousEnd) r.fail(`deletion ${idText(client, clock)} starts before the previous one ends (${previousEnd})`)
      previousEnd = clock + length
      if (previousEnd > covered) need(client, previousEnd)
      deleteRanges++
    }
  }
  if (r.pos !== update.length) r.fail(`${update.length - r.pos} bytes after the delete set`)

  for (const [client, clock] of outsideRefs) {
    if (clock >= (reach.get(client) ?? stateOf(store, client))) need(client, clock + 1)
  }
  return { ranges, gains, needs, overlaps, structs: structCount, deleteRanges, types, subdocs }
}

/**
 * JSON text of an embed, a format value or a legacy JSON item. `JSON.parse` takes any nesting, but
 * Yjs re-encodes the value recursively (lib0 `writeAny`, when the item waits in its pending set or
 * the document is encoded as V2), which overflows the stack on deep values.
 */
const parseJson = (r: Reader, json: string, maxDepth: number): void => {
  try {
    JSON.parse(json)
  } catch {
    r.fail('invalid JSON')
  }
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) r.fail(`JSON value nested deeper than ${maxDepth}`)
    } else if (c === 0x5d || c === 0x7d) depth--
  }
}

/**
 * A subdocument's options become `new Y.Doc({guid, ...options})`: they must be an object, and may
 * not set `gcFilter` (not a function after decoding: every later transaction of the subdocument
 * that deletes something throws) nor `guid` (replaces the guid the item announces).
 */
const checkSubdocOptions = (r: Reader, maxValueDepth: number): void => {
  const start = r.pos
  r.any(maxValueDepth)
  const decoder = decoding.createDecoder(r.buf)
  decoder.pos = start
  const options: unknown = decoding.readAny(decoder)
  if (options === null || typeof options !== 'object' || Array.isArray(options) || options instanceof Uint8Array) {
    r.fail('subdocument options are not an object')
  }
  for (const key of ['gcFilter', 'guid']) {
    if (Object.prototype.hasOwnProperty.call(options, key)) r.fail(`subdocument options set ${key}`)
  }
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
  try {
    const facts = walk(update, doc, maxValueDepth, null)
    if (facts.types > 0) {
      const record = new ParentRecord()
      walk(update, doc, maxValueDepth, record)
      const rejection = checkTypeDepth(doc, record, maxTypeDepth)
      if (rejection !== null) return { ok: false, cause: rejection.cause, offset: rejection.offset }
    }
    return { ok: true, ...facts }
  } catch (error) {
    if (error instanceof Rejection) return { ok: false, cause: error.cause, offset: error.offset }
    throw error
  }
}

/** `update` without what `doc` already has: items that straddle the document's state are cut at it. */
export const trimKnown = (doc: Y.Doc, update: Uint8Array): Uint8Array => Y.diffUpdate(update, Y.encodeStateVector(doc))

export type PreparedUpdate =
  | { ok: true, /** What to apply: the update, or its trimmed form. */ update: Uint8Array, trimmed: boolean, facts: UpdateFacts }
  | { ok: false, cause: string, offset: number }

/**
 * {@link checkUpdate}, and for an update that straddles the document's state, the same update
 * trimmed to what the document lacks, checked again. Yjs integrates an honest update's straddling
 * item exactly as it integrates the trimmed one; a crafted one can make it throw (module comment).
 */
export const prepareUpdate = (doc: Y.Doc, update: Uint8Array, options: UpdateCheckOptions = {}): PreparedUpdate => {
  const check = checkUpdate(doc, update, options)
  if (!check.ok) return check
  if (!check.overlaps) return { ok: true, update, trimmed: false, facts: toFacts(check) }
  const trimmed = trimKnown(doc, update)
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
 * `Y.applyUpdate(doc, update, origin)`, telling apart who threw. Yjs runs observers in a
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
export const applyUpdateReporting = (doc: Y.Doc, update: Uint8Array, origin: unknown): ApplyOutcome => {
  let started = false
  let integrated = false
  let integrationError: { error: unknown } | null = null
  try {
    Y.transact(doc, () => {
      started = true
      try {
        Y.applyUpdate(doc, update, origin)
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
