/**
 * Step 2 answers (src/provider/step2-answers.ts, PROTOCOL.md §3.3 point 2): one in flight per
 * peer, later requests folded into the latest, and the next answer to a peer spaced by ten times
 * what the last one took (encoding and handing over), so that no peer makes us spend more than a
 * tenth of our time, or of our link to it, on it. The clock and the timer are fake: the encoding
 * "costs" what the host says, the handing over what the test says.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { maxSpacingMs, Step2Answers } from '../../src/provider/step2-answers.js'

const setup = (costMs: number) => {
  let clock = 0
  const answered: Array<{ peerId: string, stateVector: number, at: number }> = []
  let handOver: Array<() => void> = []
  const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve() }
  const answers = new Step2Answers({
    answer: async (peerId, stateVector) => {
      answered.push({ peerId, stateVector: stateVector[0]!, at: clock })
      // Only p's answers cost time: q's keep the clock where the fake timers have it.
      if (peerId === 'p') clock += costMs
      await new Promise<void>((resolve) => handOver.push(resolve))
    }
  }, { now: () => clock })
  return {
    answers,
    answered,
    /** The answers on their way are handed over, `afterMs` after now (the channel drained that long). */
    handOver: async (afterMs = 0) => { clock += afterMs; const now = handOver; handOver = []; now.forEach((f) => f()); await flush() },
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

  // Served from a snapshot: no encoding, but the link takes this long to carry the answer.
  it.each([
    ['counts the time an answer waited on the channel: a peer asking again and again gets a tenth of the link', 100, 1000],
    // Ten times a send that stalled for 20 s would be over three minutes.
    ['waits at most 30 s, however long the last answer took', 20_000, maxSpacingMs]
  ])('%s', async (_title, handOverMs, spacingMs) => {
    const { answers, answered, handOver, advance } = setup(0)
    answers.request('p', new Uint8Array([1]))
    await handOver(handOverMs)
    answers.request('p', new Uint8Array([2]))
    await advance(spacingMs - 1)
    expect(answered.map((a) => a.stateVector)).toEqual([1])
    await advance(1)
    expect(answered.map((a) => a.stateVector)).toEqual([1, 2])
    expect(answered[1]!.at).toBe(handOverMs + spacingMs)
  })

  it('answers a peer that closed the document and opened it again on the same connection as one that asks again: spaced, and one in flight', async () => {
    const { answers, answered, handOver, advance } = setup(0)
    answers.request('p', new Uint8Array([1]))
    // Closed and reopened while its answer is on the link: no second answer beside it.
    answers.peerGone('p', false)
    answers.request('p', new Uint8Array([2]))
    answers.peerGone('p', false)
    answers.request('p', new Uint8Array([3]))
    await advance(0)
    expect(answered.map((a) => a.stateVector)).toEqual([1])
    await handOver(100)
    await advance(999)
    expect(answered.map((a) => a.stateVector)).toEqual([1])
    await advance(1)
    expect(answered.map((a) => a.stateVector)).toEqual([1, 3])
    // Closed after that answer was out, and reopened: still spaced from it.
    await handOver(100)
    answers.peerGone('p', false)
    answers.request('p', new Uint8Array([4]))
    await advance(999)
    expect(answered.map((a) => a.stateVector)).toEqual([1, 3])
    await advance(1)
    expect(answered.map((a) => a.stateVector)).toEqual([1, 3, 4])
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
