import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { AuthorshipGuard, type HeldUpdate } from '../../src/provider/authorship.js'

/**
 * AuthorshipGuard (PROTOCOL.md §3.6): what an owner showed of its client ids vouches for edits of
 * them that reach us through another peer.
 */
describe('AuthorshipGuard', () => {
  const guards: AuthorshipGuard[] = []
  afterEach(() => { for (const guard of guards.splice(0)) guard.clear() })

  const setup = () => {
    const released: HeldUpdate[] = []
    const guard = new AuthorshipGuard({
      doc: new Y.Doc(),
      // Client 7 is Q's; Q is here.
      ownerOf: (client) => client === 7 ? 'q' : null,
      isPresent: () => true,
      release: (held) => released.push(held),
      refuse: () => {}
    })
    guards.push(guard)
    const fromR = (to: number) => ({ update: new Uint8Array(), format: 'v1' as const, ranges: new Map([[7, { from: 0, to }]]), peerId: 'r', messageType: 'sync-update', byteLength: 0 })
    return { guard, released, fromR }
  }

  it('takes an owner\'s latest state vector for what it has, in place of the ones before (they are not accumulated)', () => {
    const { guard, fromR } = setup()
    guard.showStateVector('q', new Map([[7, 5]]))
    expect(guard.check(fromR(5))).toBe('apply')
    // Its next state vector lists other client ids only: it no longer vouches for client 7.
    guard.showStateVector('q', new Map([[1_000_001, 1], [1_000_002, 1]]))
    expect(guard.check(fromR(5))).toBe('held')
  })

  it('keeps what an owner showed by its own updates, beside its state vectors', () => {
    const { guard, fromR } = setup()
    guard.show('q', 7, 5)
    guard.showStateVector('q', new Map([[8, 1]]))
    expect(guard.check(fromR(5))).toBe('apply')
    expect(guard.check(fromR(6))).toBe('held')
  })

  it('releases a held update once the owner\'s state vector shows its clocks', () => {
    const { guard, released, fromR } = setup()
    expect(guard.check(fromR(5))).toBe('held')
    guard.showStateVector('q', new Map([[7, 4]]))
    expect(released).toHaveLength(0)
    guard.showStateVector('q', new Map([[7, 5]]))
    expect(released).toHaveLength(1)
  })
})
