/**
 * Calls into a channel's member (a provider, an LWW type) from a network handler: what it throws
 * (app code under it: observers, listeners) is reported to that member, never thrown back into
 * Trystero's or the BroadcastChannel's handler.
 */
import { TrysteroYjsError } from '../errors.js'

export const notifyMember = <M extends { report: (kind: 'error' | 'warning', error: TrysteroYjsError) => void }>(
  member: M | undefined, f: (member: M) => void, what: string
): void => {
  if (member === undefined) return
  try {
    f(member)
  } catch (error) {
    member.report('error', new TrysteroYjsError(`${what} failed`, { cause: error }))
  }
}
