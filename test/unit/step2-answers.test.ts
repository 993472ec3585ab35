/**
 * Step 2 answers (src/provider/step2-answers.ts, PROTOCOL.md §3.3 point 2): one in flight per
 * peer, later requests folded into the latest, and the next answer to a peer spaced by ten times
 * the last one's encoding, so that no peer makes us spend more than a tenth of our time on it.
 * The clock and the timer are fake: the encoding "costs" what the host says.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Step2Answers } from '../../src/provider/step2-answers.js'

const setup = (costMs: number) => {
  let clock = 0
  const answered: Array<{ peerId: string, stateVector: number, at: number }> = []
  let handOver: Array<() => void> = []
  const answers = new Step2Answers({
    answer: async (peerId, stateVector) => {
      answered.push({ peerId, stateVector: stateVector[0]!, at: clock })
      // Only p's answers cost time: q's keep the clock where the fake timers have it.
      if (peerId === 'p') clock += costMs
      await new Promise<void>((resolve) => handOver.push(resolve))
    }
  }, { now: () => clock })
  const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }
  return {
    answers,
    answered,
    /** The answers on their way are handed over. */
    handOver: async () => { const now = handOver; handOver = []; now.forEach((f) => f()); await flush() },
    advance: async (ms: number) => { clock += ms; vi.advanceTimersByTime(ms); await flush() }
  }
}

describe('step 2 answers', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }) })
  afterEach(() => { vi.useRealTimers() })

  it('answers a first request at once, folds the requests that come meanwhile into the latest', async () => {
    const { answers, answered, handOver } = setup(0)
    answers.request('p', new Uint8Array([1]))
    answers.request('p', new Uint8Array([2]))
    answers.request('p', new Uint8Array([3]))
    expect(answered).toEqual([{ peerId: 'p', stateVector: 1, at: 0 }])
    await handOver()
    expect(answered.map((a) => a.stateVector)).toEqual([1, 3])
  })

  it('spaces the next answer to a peer by ten times the last one\'s encoding, and never another peer\'s', async () => {
    const { answers, answered, handOver, advance } = setup(20)
    answers.request('p', new Uint8Array([1]))
    await handOver()
    // Handed over at 20 ms after 20 ms of encoding: the next answer to p is due at 220 ms.
    answers.request('p', new Uint8Array([2]))
    answers.request('q', new Uint8Array([9]))
    await advance(0)
    expect(answered.map((a) => `${a.peerId}${a.stateVector}`)).toEqual(['p1', 'q9'])
    answers.request('p', new Uint8Array([3]))
    await advance(199)
    expect(answered.map((a) => `${a.peerId}${a.stateVector}`)).toEqual(['p1', 'q9'])
    await advance(1)
    // The latest request, at 220 ms.
    expect(answered.map((a) => `${a.peerId}${a.stateVector}`)).toEqual(['p1', 'q9', 'p3'])
    expect(answered[2]!.at).toBe(220)
  })

  it('answers nothing more to a peer that left while its answer waited', async () => {
    const { answers, answered, handOver, advance } = setup(20)
    answers.request('p', new Uint8Array([1]))
    await handOver()
    answers.request('p', new Uint8Array([2]))
    answers.peerGone('p')
    await advance(1000)
    expect(answered.map((a) => a.stateVector)).toEqual([1])
    // Back (a new connection): answered at once.
    answers.request('p', new Uint8Array([4]))
    await advance(0)
    expect(answered.map((a) => a.stateVector)).toEqual([1, 4])
  })
})
