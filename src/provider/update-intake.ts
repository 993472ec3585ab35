/**
 * The path of a peer's document update (step 2 or update) to `Y.applyUpdate` (PROTOCOL.md §3.6,
 * §5.3): refused from a viewer; read whole (a malformed one changes nothing); checked for edits
 * under a client id the peer does not speak for (which may wait for that client's owner); then
 * applied. Every refusal is reported with the peer, the message type and the byte length.
 */
import type * as Y from 'yjs'
import type { RoomRole } from '../admission/room-keys.js'
import { TrysteroYjsError } from '../errors.js'
import { AuthorshipGuard, type HeldUpdate, type Suspect } from './authorship.js'
import { applyReadUpdate, readUpdate } from './remote-update.js'

export interface UpdateIntakeHost {
  readonly doc: Y.Doc
  readonly docName: string
  /** What we apply with: our own origin, so that we never send it back out. */
  readonly origin: unknown
  roleOf: (peerId: string) => RoomRole | null
  /** Whether the peer has the document open with us now. */
  isPresent: (peerId: string) => boolean
  /** The peer that speaks for a client id (awareness), if any. */
  ownerOf: (client: number) => string | null
  /** An update from `peerId` is in the document. */
  applied: (peerId: string, messageType: string) => void
  /** A step 2 from `peerId` was refused: the peer is still unanswered. */
  step2Refused: (peerId: string) => void
  report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void
}

export class UpdateIntake {
  private readonly authorship: AuthorshipGuard

  constructor (private readonly host: UpdateIntakeHost) {
    this.authorship = new AuthorshipGuard({
      doc: host.doc,
      ownerOf: host.ownerOf,
      isPresent: host.isPresent,
      release: (held) => this.applyChecked(held),
      refuse: (held, suspect) => this.refuseForged(held, suspect)
    })
  }

  /** `peerId` showed it has `client` up to `clock` (its step 1's state vector). */
  shown (peerId: string, stateVector: Map<number, number>): void {
    for (const [client, clock] of stateVector) this.authorship.show(peerId, client, clock)
  }

  receive (update: Uint8Array, peerId: string, messageType: string, byteLength: number): void {
    const details = { peerId, messageType, byteLength, docName: this.host.docName }
    if (this.host.roleOf(peerId) === 'viewer') {
      this.host.report('error', new TrysteroYjsError('document update from a viewer refused: it holds the view key only', details))
      return
    }
    const reading = readUpdate(update)
    if (!reading.ok) {
      this.host.report('error', new TrysteroYjsError('malformed update rejected', { ...details, cause: reading.cause }))
      return
    }
    const candidate = { update, ranges: reading.ranges, peerId, messageType, byteLength }
    if (this.authorship.check(candidate) === 'apply') this.applyChecked(candidate)
  }

  peerGone (peerId: string): void {
    this.authorship.peerGone(peerId)
  }

  clear (): void {
    this.authorship.clear()
  }

  private applyChecked ({ update, ranges, peerId, messageType, byteLength }: Omit<HeldUpdate, 'suspects'>): void {
    const failure = applyReadUpdate(this.host.doc, update, this.host.origin)
    if (failure !== null) {
      this.host.report('error', new TrysteroYjsError(failure.summary, { peerId, messageType, byteLength, docName: this.host.docName, cause: failure.cause }))
      if (!failure.applied) return
    }
    if (this.host.isPresent(peerId)) for (const [client, { to }] of ranges) this.authorship.show(peerId, client, to)
    this.host.applied(peerId, messageType)
  }

  private refuseForged (held: HeldUpdate, suspect: Suspect): void {
    const whose = suspect.owner === null ? 'us' : `peer ${suspect.owner}, which did not show it within the wait`
    this.host.report('error', new TrysteroYjsError(
      `update refused: it carries edits of client ${suspect.client}, which belongs to ${whose}`,
      { peerId: held.peerId, messageType: held.messageType, byteLength: held.byteLength, docName: this.host.docName }))
    if (held.messageType === 'sync-step2') this.host.step2Refused(held.peerId)
  }
}
