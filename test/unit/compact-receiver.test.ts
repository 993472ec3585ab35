import { describe, expect, it, vi } from 'vitest'
import type { TrysteroYjsError } from '../../src/errors.js'
import type { CompactMessage } from '../../src/protocol/doc-messages.js'

/**
 * CompactReceiver (PROTOCOL.md §3.7) with inflation under the test's control: how many of a
 * peer's compact messages are being inflated at once, and what each costs the peer.
 */

const inflating: Array<{ peerId: string, finish: () => void }> = []
let currentPeer = ''

vi.mock('../../src/compact/deflate-raw.js', () => ({
  inflateRaw: async (bytes: Uint8Array, expectedBytes: number) => {
    const peerId = currentPeer
    await new Promise<void>((resolve) => { inflating.push({ peerId, finish: resolve }) })
    return { ok: true, bytes: new Uint8Array(expectedBytes).fill(bytes[0] ?? 0) }
  }
}))

const { CompactReceiver } = await import('../../src/compact/compact-receiver.js')

const compact = (n: number): CompactMessage => ({ type: 'compact', syncType: 'sync-update', compressed: true, updateBytes: 4, payload: Uint8Array.of(n) })

const receiver = (chargeLimit = Infinity) => {
  const charged: Array<{ peerId: string, bytes: number, messages: number | undefined }> = []
  const disconnected: TrysteroYjsError[] = []
  const host = {
    docName: '',
    accepting: () => true,
    maxMessageBytes: 1024,
    charge: (peerId: string, bytes: number, _type: string, messages?: number) => {
      charged.push({ peerId, bytes, messages })
      return charged.length <= chargeLimit
    },
    disconnect: (_peerId: string, error: TrysteroYjsError) => { disconnected.push(error) },
    admitted: () => true,
    report: () => {}
  }
  return { receiver: new CompactReceiver(host), charged, disconnected }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await Promise.resolve() }

describe('CompactReceiver', () => {
  it('inflates one compact message of a peer at a time (a frame of thousands must not start thousands of streams), other peers beside it', async () => {
    inflating.length = 0
    const { receiver: r } = receiver()
    const handled: string[] = []
    currentPeer = 'a'
    r.deliver('a', [compact(1), compact(2), compact(3)], 30, (m) => handled.push(`a${m.type === 'sync-update' ? m.update[0]! : '?'}`))
    currentPeer = 'b'
    r.deliver('b', [compact(7)], 10, (m) => handled.push(`b${m.type === 'sync-update' ? m.update[0]! : '?'}`))
    await settle()
    expect(inflating.map((i) => i.peerId)).toEqual(['a', 'b'])
    for (let step = 0; step < 3; step++) {
      currentPeer = 'a'
      inflating.shift()!.finish()
      await settle()
    }
    expect(handled).toEqual(['a1', 'b7', 'a2'])
    inflating.shift()!.finish()
    await settle()
    expect(handled).toEqual(['a1', 'b7', 'a2', 'a3'])
  })

  it('charges each compact message as a message of its own, on arrival, and drops the rest of the frame once the peer is over', async () => {
    inflating.length = 0
    const { receiver: r, charged } = receiver(2)
    currentPeer = 'a'
    r.deliver('a', [compact(1), compact(2), compact(3), compact(4)], 40, () => {})
    expect(charged).toEqual([
      { peerId: 'a', bytes: 4, messages: 1 },
      { peerId: 'a', bytes: 4, messages: 1 },
      { peerId: 'a', bytes: 4, messages: 1 }
    ])
    await settle()
    // Only what was charged before the peer went over is inflated, one at a time.
    expect(inflating).toHaveLength(1)
    inflating.shift()!.finish()
    await settle()
    expect(inflating).toHaveLength(1)
    inflating.shift()!.finish()
    await settle()
    expect(inflating).toHaveLength(0)
  })
})
