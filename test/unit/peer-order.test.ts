import { describe, expect, it } from 'vitest'
import { PeerOrder } from '../../src/compact/peer-order.js'
import { seeded } from '../support/seeded.js'

/** A promise resolved from outside, to decide when an asynchronous step finishes. */
const gate = (): { promise: Promise<void>, open: () => void } => {
  let open!: () => void
  const promise = new Promise<void>((resolve) => { open = resolve })
  return { promise, open }
}

describe('PeerOrder', () => {
  it('runs a step at once, synchronously, while the peer has nothing in flight', () => {
    const order = new PeerOrder(() => {})
    const ran: string[] = []
    void order.enqueue('a', () => { ran.push('one') })
    void order.enqueue('a', () => { ran.push('two') })
    expect(ran).toEqual(['one', 'two'])
    expect(order.busy('a')).toBe(false)
  })

  it('holds a peer\'s later steps behind an asynchronous one, and no other peer\'s', async () => {
    const order = new PeerOrder(() => {})
    const ran: string[] = []
    const slow = gate()
    void order.enqueue('a', async () => {
      await slow.promise
      ran.push('a: compressed')
    })
    const keystroke = order.enqueue('a', () => { ran.push('a: keystroke') })
    void order.enqueue('b', () => { ran.push('b: keystroke') })
    expect(ran).toEqual(['b: keystroke'])
    expect(order.busy('a')).toBe(true)
    slow.open()
    await keystroke
    expect(ran).toEqual(['b: keystroke', 'a: compressed', 'a: keystroke'])
    await Promise.resolve()
    expect(order.busy('a')).toBe(false)
  })

  it('keeps the order of any mix of synchronous and asynchronous steps finishing in any order', async () => {
    const random = seeded(9)
    for (let round = 0; round < 50; round++) {
      const order = new PeerOrder(() => {})
      const ran: Array<[string, number]> = []
      const gates: Array<() => void> = []
      const done: Array<Promise<void>> = []
      for (let i = 0; i < 30; i++) {
        const peer = random(2) === 0 ? 'a' : 'b'
        if (random(3) === 0) {
          const g = gate()
          gates.push(g.open)
          done.push(order.enqueue(peer, async () => { await g.promise; ran.push([peer, i]) }))
        } else {
          done.push(order.enqueue(peer, () => { ran.push([peer, i]) }))
        }
      }
      // Finish the asynchronous steps in a random order.
      while (gates.length > 0) {
        gates.splice(random(gates.length), 1)[0]!()
        await Promise.resolve()
      }
      await Promise.all(done)
      for (const peer of ['a', 'b']) {
        const steps = ran.filter(([p]) => p === peer).map(([, i]) => i)
        expect(steps).toEqual([...steps].sort((x, y) => x - y))
      }
      expect(ran).toHaveLength(30)
    }
  })

  it('reports a step that throws or rejects, and goes on with the next', async () => {
    const failures: Array<[string, string]> = []
    const order = new PeerOrder((peerId, error) => failures.push([peerId, (error as Error).message]))
    const ran: string[] = []
    void order.enqueue('a', () => { throw new Error('sync') })
    void order.enqueue('a', async () => { throw new Error('async') })
    await order.enqueue('a', () => { ran.push('after') })
    expect(failures).toEqual([['a', 'sync'], ['a', 'async']])
    expect(ran).toEqual(['after'])
  })

  it('holds a peer behind work it is given (a big message being handed over)', async () => {
    const order = new PeerOrder(() => {})
    const handOver = gate()
    void order.hold('a', handOver.promise)
    const ran: string[] = []
    const next = order.enqueue('a', () => { ran.push('next') })
    await Promise.resolve()
    expect(ran).toEqual([])
    handOver.open()
    await next
    expect(ran).toEqual(['next'])
  })
})
