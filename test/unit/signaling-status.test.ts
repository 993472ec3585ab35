/**
 * SignalingMonitor over stand-in sockets: what Trystero's `getRelaySockets()` hands out is a
 * WebSocket per relay, replaced on every retry. Fake timers drive the polling and the connect
 * timeout; socket events drive the rest.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SignalingMonitor, type SignalingMonitorOptions, type SignalingStatus } from '../../src/signaling-status.js'
import type { TrysteroYjsError } from '../../src/errors.js'

/** A WebSocket as far as the monitor sees one: `readyState` and `open`/`error`/`close` events. */
class StandInSocket extends EventTarget {
  readyState = 0
  open (): void {
    this.readyState = 1
    this.dispatchEvent(new Event('open'))
  }

  /** As a browser does it: an `error` without detail, then `close` with a code. */
  fail (code = 1006, message?: string): void {
    this.readyState = 3
    const error = Object.assign(new Event('error'), message === undefined ? {} : { message })
    this.dispatchEvent(error)
    this.dispatchEvent(Object.assign(new Event('close'), { code }))
  }
}

const a = 'wss://a.example'
const b = 'wss://b.example'

describe('SignalingMonitor', () => {
  let sockets: Record<string, StandInSocket>
  let changes: SignalingStatus[]
  let unreachable: TrysteroYjsError[]
  let monitor: SignalingMonitor

  const make = (options: Partial<SignalingMonitorOptions> = {}): SignalingMonitor => {
    monitor = new SignalingMonitor({
      getRelaySockets: () => sockets,
      onChange: (status) => changes.push(status),
      onUnreachable: (error) => unreachable.push(error),
      ...options
    })
    return monitor
  }
  /** Lets the monitor's microtask after a socket event run. */
  const settle = async (): Promise<void> => { await vi.advanceTimersByTimeAsync(0) }
  const states = (): string[] => monitor.status.relays.map((r) => `${r.url} ${r.state}`)

  beforeEach(() => {
    vi.useFakeTimers()
    sockets = { [a]: new StandInSocket(), [b]: new StandInSocket() }
    changes = []
    unreachable = []
  })
  afterEach(() => {
    monitor.stop()
    vi.useRealTimers()
  })

  it('counts no relay while stopped, then follows each relay from connecting to open', async () => {
    make()
    expect(monitor.status).toEqual({ total: 0, reachable: 0, relays: [], lastError: null })
    monitor.start()
    expect(monitor.status).toEqual({ total: 2, reachable: 0, relays: [{ url: a, state: 'connecting' }, { url: b, state: 'connecting' }], lastError: null })
    sockets[a]!.open()
    await settle()
    expect(monitor.status.reachable).toBe(1)
    expect(states()).toEqual([`${a} open`, `${b} connecting`])
    expect(changes.map((c) => c.reachable)).toEqual([0, 1])
  })

  it('emits only on change: polling an unchanged state says nothing', async () => {
    make().start()
    sockets[a]!.open()
    await settle()
    const count = changes.length
    await vi.advanceTimersByTimeAsync(5000)
    expect(changes.length).toBe(count)
  })

  it('reports an error once when every relay failed, naming the last failure; again after one was reachable', async () => {
    make().start()
    sockets[a]!.fail(1006)
    await settle()
    expect(states()).toEqual([`${a} failed`, `${b} connecting`])
    expect(unreachable).toEqual([])
    sockets[b]!.fail(1006, 'connect ECONNREFUSED 127.0.0.1:1')
    await settle()
    expect(monitor.status.lastError).toBe(`${b}: could not connect: connect ECONNREFUSED 127.0.0.1:1, code 1006`)
    expect(unreachable.map((e) => e.message)).toEqual([
      `trystero-yjs: no signaling relay reachable (0 of 2): peers cannot find each other; last error: ${b}: could not connect: connect ECONNREFUSED 127.0.0.1:1, code 1006`
    ])
    await vi.advanceTimersByTimeAsync(5000)
    expect(unreachable.length).toBe(1)
    // Trystero retries with a new socket: still failed until it opens.
    sockets[a] = new StandInSocket()
    await vi.advanceTimersByTimeAsync(1000)
    expect(states()).toEqual([`${a} failed`, `${b} failed`])
    sockets[a].open()
    await settle()
    expect(monitor.status.reachable).toBe(1)
    sockets[a].fail(1001)
    await settle()
    expect(monitor.status.lastError).toBe(`${a}: connection lost: code 1001`)
    expect(unreachable.length).toBe(2)
  })

  it('counts a relay that does not answer within the connect timeout as failed', async () => {
    make({ connectTimeoutMs: 3000 }).start()
    sockets[a]!.open()
    await vi.advanceTimersByTimeAsync(2000)
    expect(states()).toEqual([`${a} open`, `${b} connecting`])
    await vi.advanceTimersByTimeAsync(1000)
    expect(states()).toEqual([`${a} open`, `${b} failed`])
    expect(monitor.status.lastError).toBe(`${b}: could not connect: no answer within 3000 ms`)
    expect(unreachable).toEqual([])
  })

  it('sees a socket closed without events (read from readyState at the next look)', async () => {
    make({ pollMs: 500 }).start()
    sockets[a]!.readyState = 3
    await vi.advanceTimersByTimeAsync(500)
    expect(states()).toEqual([`${a} failed`, `${b} connecting`])
    expect(monitor.status.lastError).toBe(`${a}: could not connect`)
  })

  it('counts only the configured relays; one the strategy shows no socket for is unknown, never an error', async () => {
    make({ urls: [a, 'ws://127.0.0.1:8787'] }).start()
    sockets[a]!.fail()
    await settle()
    expect(monitor.status).toMatchObject({ total: 2, reachable: 0, relays: [{ url: a, state: 'failed' }, { url: 'ws://127.0.0.1:8787', state: 'unknown' }] })
    expect(unreachable).toEqual([])
  })

  it('without getRelaySockets, every configured relay is unknown', () => {
    make({ getRelaySockets: undefined, urls: [a] }).start()
    expect(monitor.status.relays).toEqual([{ url: a, state: 'unknown' }])
  })

  it('stop() forgets the relays and their listeners; start() judges them afresh', async () => {
    make().start()
    sockets[a]!.fail()
    sockets[b]!.fail()
    await settle()
    expect(unreachable.length).toBe(1)
    monitor.stop()
    expect(monitor.status.total).toBe(0)
    const count = changes.length
    sockets[a]!.dispatchEvent(new Event('open'))
    await vi.advanceTimersByTimeAsync(5000)
    expect(changes.length).toBe(count)
    sockets = { [a]: new StandInSocket() }
    monitor.start()
    expect(states()).toEqual([`${a} connecting`])
  })
})
