/**
 * The path of a peer's document update (step 2 or update) to `Y.applyUpdate` (PROTOCOL.md §3.6,
 * §5.3): refused from a viewer; checked whole against the document (`checkUpdate`: whatever would
 * make Yjs throw half-way is refused, so an update goes in whole or not at all); checked for edits
 * under a client id the peer does not speak for (which may wait for that client's owner); then
 * applied. What Yjs cannot integrate yet (its history has not reached us) is kept per peer, out of
 * Yjs's own pending set, bounded (`PendingQuarantine`). Every refusal is reported with the peer,
 * the message type and the byte length.
 */
import type * as Y from 'yjs'
import type { RoomRole } from '../admission/room-keys.js'
import { TrysteroYjsError } from '../errors.js'
import type { ProviderLimits } from '../limits.js'
import { PendingQuarantine, type QuarantineOverflow } from '../sync/pending-quarantine.js'
import { applyUpdateReporting, prepareUpdate, type UpdateFormat } from '../sync/update-check.js'
import { AuthorshipGuard, type HeldUpdate, type Suspect } from './authorship.js'

export interface UpdateIntakeHost {
  readonly doc: Y.Doc
  readonly docName: string
  /** What we apply with: our own origin, so that we never send it back out. */
  readonly origin: unknown
  readonly limits: Readonly<ProviderLimits>
  roleOf: (peerId: string) => RoomRole | null
  /** Whether the peer has the document open with us now. */
  isPresent: (peerId: string) => boolean
  /** The peer that speaks for a client id (awareness), if any. */
  ownerOf: (client: number) => string | null
  /** An update from `peerId` is in the document. */
  applied: (peerId: string, messageType: string) => void
  /** A step 2 from `peerId` was refused: the peer is still unanswered. */
  step2Refused: (peerId: string) => void
  /** The peer went over a limit: report and disconnect it. */
  disconnect: (peerId: string, error: TrysteroYjsError) => void
  /** Counts bytes a V2 update makes us process against the peer's byte rate; `false` once it is disconnected. */
  charge: (peerId: string, bytes: number, messageType: string) => boolean
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

export class UpdateIntake {
  private readonly authorship: AuthorshipGuard
  private readonly quarantine: PendingQuarantine
  /**
   * Peers whose step 2 went in while something else of theirs still waited: an update on hold
   * (authorship), or one missing its history (quarantine). Their step 2 counts as the answer
   * (`applied`) only once that is in too: a step 2 can carry only what came after an update it
   * follows (the snapshot's answer, §3.3), and `synced` must mean the document is here.
   */
  private readonly answersWaiting = new Set<string>()

  constructor (private readonly host: UpdateIntakeHost) {
    this.authorship = new AuthorshipGuard({
      doc: host.doc,
      ownerOf: host.ownerOf,
      isPresent: host.isPresent,
      release: (held) => this.apply(held, false),
      refuse: (held, suspect) => this.refuseForged(held, suspect)
    })
    this.quarantine = new PendingQuarantine(host.doc, {
      origin: host.origin,
      maxEntriesPerPeer: host.limits.maxPendingUpdates,
      maxBytesPerPeer: host.limits.maxPendingBytes
    })
  }

  /** `peerId` showed it has `client` up to `clock` (its step 1's state vector). */
  shown (peerId: string, stateVector: Map<number, number>): void {
    this.authorship.showStateVector(peerId, stateVector)
  }

  /** A step 2 or update from a peer, in format V1 (y-protocols) or V2 (a compact message, PROTOCOL.md §3.7). */
  receive (update: Uint8Array, peerId: string, messageType: string, byteLength: number, format: UpdateFormat = 'v1'): void {
    const details = { peerId, messageType, byteLength, docName: this.host.docName }
    if (this.host.roleOf(peerId) === 'viewer') {
      this.host.report('error', new TrysteroYjsError('document update from a viewer refused: it holds the view key only', details))
      return
    }
    const prepared = prepareUpdate(this.host.doc, update, this.checkOptions(format))
    if (!prepared.ok) {
      if (prepared.limit === undefined) {
        this.host.report('error', new TrysteroYjsError(`update refused, nothing applied: ${prepared.cause}`, details))
      } else {
        // More structs than a V1 message of maxMessageBytes could hold: a limit, like the size.
        const { maxMessageBytes } = this.host.limits
        this.host.disconnect(peerId, new TrysteroYjsError(`update refused, nothing applied, peer disconnected: ${prepared.cause}`, {
          ...details, limit: 'maxMessageBytes', limitValue: maxMessageBytes, figure: 2 * prepared.limit.figure
        }))
      }
      return
    }
    // What V1 would have cost the peer to send: 2 bytes a struct or deletion range (V2 can be far smaller).
    if (format === 'v2' && !this.host.charge(peerId, 2 * (prepared.facts.structs + prepared.facts.deleteRanges), messageType)) return
    const candidate = { update: prepared.update, format, ranges: prepared.facts.ranges, peerId, messageType, byteLength }
    if (this.authorship.check(candidate) === 'apply') this.apply(candidate, true)
  }

  peerGone (peerId: string): void {
    this.answersWaiting.delete(peerId)
    this.authorship.peerGone(peerId)
    this.quarantine.dropPeer(peerId)
  }

  clear (): void {
    this.answersWaiting.clear()
    this.authorship.clear()
    this.quarantine.clear()
  }

  /** Applies a checked update; one that waited is checked again against the document of now. */
  private apply ({ update, format, ranges, peerId, messageType, byteLength }: Omit<HeldUpdate, 'suspects'>, fresh: boolean): void {
    const { doc, docName } = this.host
    const details = { peerId, messageType, byteLength, docName }
    if (!fresh) {
      const again = prepareUpdate(doc, update, this.checkOptions(format))
      if (!again.ok) {
        this.host.report('error', new TrysteroYjsError(`update refused, nothing applied: ${again.cause}`, details))
        return
      }
      update = again.update
    }
    // The update applied is the one checked (V2 stays V2: Yjs reads it with the same decoders).
    const outcome = applyUpdateReporting(doc, update, this.host.origin, format)
    if (outcome.status === 'not-started') {
      this.host.report('error', new TrysteroYjsError('update not applied: the document is stuck in a transaction (a beforeTransaction listener threw)', { ...details, cause: outcome.error }))
      return
    }
    if (outcome.status === 'integration-failed') {
      // The check should make this impossible; if Yjs still fails, say so, and what it means.
      this.host.report('error', new TrysteroYjsError('Yjs failed to integrate an update the check accepted: part of it may be in the document', { ...details, cause: outcome.error }))
    } else if (outcome.observerError !== undefined) {
      this.host.report('error', new TrysteroYjsError('a document observer (app code) threw; the update itself is in', { ...details, cause: outcome.observerError }))
    }
    this.overflowed(this.quarantine.capture(peerId))
    const retried = this.quarantine.retry()
    for (const overflow of retried.overflows) this.overflowed(overflow)
    for (const { peerId: other, cause } of retried.rejected) {
      this.host.report('error', new TrysteroYjsError(`a waiting update was refused once its history arrived: ${cause}`, { peerId: other, messageType: 'sync-update', docName }))
    }
    if (outcome.status === 'applied') {
      if (this.host.isPresent(peerId)) for (const [client, { to }] of ranges) this.authorship.show(peerId, client, to)
      if (messageType === 'sync-step2' && this.waitsFrom(peerId)) this.answersWaiting.add(peerId)
      else this.host.applied(peerId, messageType)
    }
    // What waited may be in now (this update was its history, or its owner vouched for it).
    // Nothing to look at on a keystroke: the set is empty but for a peer's first sync gone awry.
    if (this.answersWaiting.size > 0) this.settleAnswers()
  }

  /** Counts as answered each peer whose step 2 waited and that has nothing waiting any more. */
  private settleAnswers (): void {
    for (const waiting of [...this.answersWaiting]) {
      if (this.waitsFrom(waiting)) continue
      this.answersWaiting.delete(waiting)
      this.host.applied(waiting, 'sync-step2')
    }
  }

  /** Something from the peer is on hold or missing its history. */
  private waitsFrom (peerId: string): boolean {
    return this.authorship.heldFrom(peerId) > 0 || this.quarantine.held(peerId).entries > 0
  }

  /** V2 may announce any number of structs: at most what a V1 message of `maxMessageBytes` holds. */
  private checkOptions (format: UpdateFormat): { format: UpdateFormat, maxStructs: number } {
    return { format, maxStructs: Math.floor(this.host.limits.maxMessageBytes / 2) }
  }

  private overflowed (overflow: QuarantineOverflow | null): void {
    if (overflow === null) return
    const limit = overflow.limit === 'entries' ? 'maxPendingUpdates' : 'maxPendingBytes'
    this.host.disconnect(overflow.peerId, new TrysteroYjsError('peer left more updates waiting for missing history than allowed: they are dropped, and the peer disconnected', {
      peerId: overflow.peerId, messageType: 'sync-update', byteLength: overflow.droppedBytes, docName: this.host.docName, limit, limitValue: overflow.max, figure: overflow.figure
    }))
  }

  private refuseForged (held: HeldUpdate, suspect: Suspect): void {
    const whose = suspect.owner === null ? 'us' : `peer ${suspect.owner}, which did not show it within the wait`
    this.host.report('error', new TrysteroYjsError(
      `update refused: it carries edits of client ${suspect.client}, which belongs to ${whose}`,
      { peerId: held.peerId, messageType: held.messageType, byteLength: held.byteLength, docName: this.host.docName }))
    // A step 2 refused, or an update its step 2 waited for: the peer is still unanswered.
    if (held.messageType === 'sync-step2' || this.answersWaiting.delete(held.peerId)) this.host.step2Refused(held.peerId)
  }
}
