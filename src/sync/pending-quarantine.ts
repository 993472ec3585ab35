/**
 * Keeps Yjs's pending set from growing with peer traffic.
 *
 * Yjs keeps what it cannot integrate yet — structs whose history is missing
 * (`doc.store.pendingStructs`, with `missing`: what they wait for) and deletions of structs it
 * lacks (`doc.store.pendingDs`), both as V2 updates — in the document's store, forever. Each
 * later update is merged into that set (`Y.mergeUpdatesV2`), which costs time proportional to the
 * set: a peer that sends valid updates that each lack their history costs quadratic time
 * (measured by `bench/scenarios/pending-flood.ts`: 5,000 such updates, 0.2 MB, keep the main thread
 * busy for tens of seconds), and `Y.encodeStateAsUpdate` ships the set to every peer that asks
 * for a step 2, so one peer's unresolvable data goes to everyone.
 *
 * `PendingQuarantine` takes the set out of the store after every remote apply and keeps it per
 * peer, bounded, as V1 updates. An entry is retried — checked and applied like any peer update —
 * once the document has what it waits for, and never merged with another entry.
 */
import * as Y from 'yjs'
import { applyUpdateReporting, checkUpdate, prepareUpdate, type ApplyOutcome, type PreparedUpdate, type UpdateCheckOptions, type UpdateFormat } from './update-check.js'

/**
 * A peer's leftovers exist only while another peer's history has not reached us yet: in a full
 * mesh with ordered, reliable channels, about one network hop. A peer typing fast sends at most
 * one update per tick (the provider coalesces a tick's updates), so even a few seconds of one
 * peer's edits waiting on a slow third peer stays well under 256 entries; a legitimate step 2
 * carries the sender's whole state and leaves nothing waiting.
 */
export const defaultMaxEntriesPerPeer = 256
/**
 * Entries are edits waiting on a hop (tens of bytes to kilobytes each); 1 MiB holds hundreds of
 * them, or a pasted document, while 20 misbehaving peers cannot hold more than 20 MiB.
 */
export const defaultMaxBytesPerPeer = 1024 * 1024

export interface PendingQuarantineOptions {
  /** Transaction origin of retried entries: the provider, so that they are not sent on. */
  origin?: unknown
  /** Most entries kept per peer. Default {@link defaultMaxEntriesPerPeer}. */
  maxEntriesPerPeer?: number
  /** Most bytes (V1) kept per peer. Default {@link defaultMaxBytesPerPeer}. */
  maxBytesPerPeer?: number
  /** Limits of the check run on every retried entry. */
  check?: UpdateCheckOptions
}

/** A peer's leftovers did not fit: they were dropped. The caller may resync or disconnect it. */
export interface QuarantineOverflow {
  peerId: string
  /** Which bound: entries, or bytes. */
  limit: 'entries' | 'bytes'
  /** The bound. */
  max: number
  /** What the peer would have held with the dropped leftovers. */
  figure: number
  /** Size (V1) of the leftovers dropped. */
  droppedBytes: number
}

/** What one retry pass did. */
export interface RetryReport {
  /** Entries applied (some may have left a part waiting again). */
  applied: Array<{ peerId: string, outcome: ApplyOutcome }>
  /** Entries the check refused (dropped): e.g. types now nested too deep. */
  rejected: Array<{ peerId: string, cause: string }>
  overflows: QuarantineOverflow[]
}

/** {@link PendingQuarantine.receive}'s account of one peer update. */
export type ReceiveReport =
  | { status: 'rejected', cause: string, offset: number }
  | {
    status: ApplyOutcome['status']
    outcome: ApplyOutcome
    prepared: Extract<PreparedUpdate, { ok: true }>
    /** A part of this update waits in quarantine. */
    waiting: boolean
    overflow: QuarantineOverflow | null
    retried: RetryReport
  }

interface Entry {
  peerId: string
  update: Uint8Array
  /** State each client must reach (from the check) before a retry can integrate it all. */
  needs: Map<number, number>
  /** Yjs's own `pendingStructs.missing` (retry once any of its clients passed the clock). */
  missing: Map<number, number> | null
  /** Document state signature when last tried: no retry until the document changed. */
  triedAt: number
}

/** Sum of the document's clocks: grows with every struct integrated, so it tells "changed". */
const stateSignature = (doc: Y.Doc): number => {
  let sum = 0
  for (const structs of doc.store.clients.values()) {
    const last = structs[structs.length - 1]!
    sum += last.id.clock + last.length
  }
  return sum
}

const stateOf = (doc: Y.Doc, client: number): number => {
  const structs = doc.store.clients.get(client)
  if (structs === undefined) return 0
  const last = structs[structs.length - 1]!
  return last.id.clock + last.length
}

/**
 * Per-peer, bounded holding area for what Yjs could not integrate yet. Use:
 *
 * ```ts
 * const quarantine = new PendingQuarantine(doc, { origin: provider })
 * // for every update from a peer (step 2 or update):
 * const report = quarantine.receive(peerId, update)
 * // report.status: 'rejected' | 'applied' | 'integration-failed' | 'not-started'
 * // report.overflow: the peer's leftovers did not fit (resync or disconnect it)
 * // when a peer leaves: quarantine.dropPeer(peerId)
 * // step 2: encodeStateAsUpdateWithoutPending(doc, stateVector)
 * ```
 *
 * or, applying updates yourself, call {@link capture} right after each remote apply and
 * {@link retry} after it (and after applying anything else, e.g. a persisted state). An update's
 * `gains` are known when it is received (`report.prepared.facts`); a retried entry is a part of
 * it and gains nothing more. Whatever is in the store's pending set when `capture` runs is
 * attributed to that peer: apply local updates that may leave something pending (an old
 * persisted state) before remote traffic starts, or capture them under an id of your own.
 */
export class PendingQuarantine {
  readonly doc: Y.Doc
  private readonly origin: unknown
  private readonly maxEntries: number
  private readonly maxBytes: number
  private readonly checkOptions: UpdateCheckOptions
  private readonly byPeer = new Map<string, { entries: Entry[], bytes: number }>()

  constructor (doc: Y.Doc, options: PendingQuarantineOptions = {}) {
    this.doc = doc
    this.origin = options.origin ?? null
    this.maxEntries = options.maxEntriesPerPeer ?? defaultMaxEntriesPerPeer
    this.maxBytes = options.maxBytesPerPeer ?? defaultMaxBytesPerPeer
    this.checkOptions = options.check ?? {}
  }

  /**
   * The whole pipeline for one peer update: check (and trim) it, apply it telling Yjs's failures
   * from observers', move what it left pending into the peer's quarantine, and retry what the
   * document now has the history for.
   */
  receive (peerId: string, update: Uint8Array): ReceiveReport {
    const prepared = prepareUpdate(this.doc, update, this.checkOptions)
    if (!prepared.ok) return { status: 'rejected', cause: prepared.cause, offset: prepared.offset }
    const outcome = applyUpdateReporting(this.doc, prepared.update, this.origin)
    const waiting = this.hasStorePending()
    const overflow = this.capture(peerId)
    const retried = this.retry()
    return { status: outcome.status, outcome, prepared, waiting: waiting && overflow === null, overflow, retried }
  }

  /**
   * Moves the store's pending structs and deletions into `peerId`'s quarantine (call right after
   * applying an update from that peer). Returns the overflow if they did not fit: then they are
   * dropped, and the document lacks them until the peer sends them again (a step 1 asks for it).
   */
  capture (peerId: string): QuarantineOverflow | null {
    const store = this.doc.store
    const { pendingStructs, pendingDs } = store
    if (pendingStructs === null && pendingDs === null) return null
    store.pendingStructs = null
    store.pendingDs = null
    const parts: Uint8Array[] = []
    if (pendingStructs !== null) parts.push(pendingStructs.update)
    if (pendingDs !== null) parts.push(pendingDs)
    const v2 = parts.length === 1 ? parts[0]! : Y.mergeUpdatesV2(parts)
    const update = Y.convertUpdateFormatV2ToV1(v2)
    const bucket = this.byPeer.get(peerId) ?? { entries: [], bytes: 0 }
    if (bucket.entries.length + 1 > this.maxEntries) {
      return { peerId, limit: 'entries', max: this.maxEntries, figure: bucket.entries.length + 1, droppedBytes: update.byteLength }
    }
    if (bucket.bytes + update.byteLength > this.maxBytes) {
      return { peerId, limit: 'bytes', max: this.maxBytes, figure: bucket.bytes + update.byteLength, droppedBytes: update.byteLength }
    }
    // The leftovers are a part of an update the check accepted; checked again here only for
    // what they wait for (the retry checks them in full against the document of then).
    const check = checkUpdate(this.doc, update, this.checkOptions)
    const needs = check.ok ? check.needs : new Map<number, number>()
    bucket.entries.push({ peerId, update, needs, missing: pendingStructs?.missing ?? null, triedAt: stateSignature(this.doc) })
    bucket.bytes += update.byteLength
    this.byPeer.set(peerId, bucket)
    return null
  }

  /**
   * Applies every entry the document now has the history for (its `needs` are met, and for
   * structs, one of the clocks Yjs said it misses has passed), as many times as that makes other
   * entries applicable. An entry is not tried again until the document changed.
   */
  retry (): RetryReport {
    const report: RetryReport = { applied: [], rejected: [], overflows: [] }
    // Called after every applied update (keystrokes included): nothing waiting, nothing to look at.
    if (this.byPeer.size === 0) return report
    let progressed = true
    while (progressed) {
      progressed = false
      let signature = stateSignature(this.doc)
      for (const [peerId, bucket] of [...this.byPeer]) {
        for (const entry of [...bucket.entries]) {
          if (!this.ready(entry, signature)) continue
          this.remove(peerId, entry)
          const prepared = prepareUpdate(this.doc, entry.update, this.checkOptions)
          if (!prepared.ok) {
            report.rejected.push({ peerId, cause: prepared.cause })
            continue
          }
          report.applied.push({ peerId, outcome: applyUpdateReporting(this.doc, prepared.update, this.origin) })
          const overflow = this.capture(peerId)
          if (overflow !== null) report.overflows.push(overflow)
          const after = stateSignature(this.doc)
          if (after !== signature) progressed = true
          signature = after
        }
      }
    }
    return report
  }

  /** Forgets a peer's entries (it left: what it sent will not be completed through it). */
  dropPeer (peerId: string): { entries: number, bytes: number } {
    const bucket = this.byPeer.get(peerId)
    this.byPeer.delete(peerId)
    return { entries: bucket?.entries.length ?? 0, bytes: bucket?.bytes ?? 0 }
  }

  /** Forgets every peer's entries (the document left the room). */
  clear (): void {
    this.byPeer.clear()
  }

  /** Entries and bytes held for one peer, or for all. */
  held (peerId?: string): { entries: number, bytes: number } {
    const buckets = peerId === undefined ? [...this.byPeer.values()] : [this.byPeer.get(peerId)]
    let entries = 0
    let bytes = 0
    for (const bucket of buckets) {
      entries += bucket?.entries.length ?? 0
      bytes += bucket?.bytes ?? 0
    }
    return { entries, bytes }
  }

  /** The held updates (V1), oldest first: to inspect or persist them. */
  entriesOf (peerId: string): Uint8Array[] {
    return (this.byPeer.get(peerId)?.entries ?? []).map((entry) => entry.update)
  }

  private hasStorePending (): boolean {
    return this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null
  }

  private ready (entry: Entry, signature: number): boolean {
    if (signature === entry.triedAt) return false
    for (const [client, clock] of entry.needs) if (stateOf(this.doc, client) < clock) return false
    if (entry.missing !== null) {
      let passed = false
      for (const [client, clock] of entry.missing) if (stateOf(this.doc, client) > clock) passed = true
      if (!passed) return false
    }
    return true
  }

  private remove (peerId: string, entry: Entry): void {
    const bucket = this.byPeer.get(peerId)
    if (bucket === undefined) return
    const index = bucket.entries.indexOf(entry)
    if (index === -1) return
    bucket.entries.splice(index, 1)
    bucket.bytes -= entry.update.byteLength
    if (bucket.entries.length === 0) this.byPeer.delete(peerId)
  }
}

/**
 * `Y.encodeStateAsUpdate(doc, encodedTargetStateVector)` (or `…V2` with `format: 'v2'`) without the document's pending structs
 * and deletions, which Yjs would add: a step 2 then carries only what this document integrated,
 * never another peer's unresolvable data. (With a {@link PendingQuarantine} capturing after every
 * apply, the store's pending set is empty anyway; this also covers local sources.)
 */
export const encodeStateAsUpdateWithoutPending = (doc: Y.Doc, encodedTargetStateVector?: Uint8Array, format: UpdateFormat = 'v1'): Uint8Array => {
  const store = doc.store
  const { pendingStructs, pendingDs } = store
  const encode = (): Uint8Array => format === 'v2' ? Y.encodeStateAsUpdateV2(doc, encodedTargetStateVector) : Y.encodeStateAsUpdate(doc, encodedTargetStateVector)
  if (pendingStructs === null && pendingDs === null) return encode()
  store.pendingStructs = null
  store.pendingDs = null
  try {
    return encode()
  } finally {
    store.pendingStructs = pendingStructs
    store.pendingDs = pendingDs
  }
}
