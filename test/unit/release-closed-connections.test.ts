/**
 * The rtcPolyfill subclass that lets go of ended connections: what it closes and drops, and what
 * it leaves alone. On a connection shaped like node-datachannel's polyfill (an EventTarget with
 * handler properties); test/webrtc/release-closed-connections.test.ts runs the real one.
 */
import { describe, expect, it } from 'vitest'
import { releaseClosedConnections } from '../../src/release-closed-connections.js'

class FakeChannel extends EventTarget {
  onopen: (() => void) | null = null
  onmessage: (() => void) | null = null
  onclose: (() => void) | null = null
  onerror: (() => void) | null = null
}

class FakeConnection extends EventTarget {
  static closes = 0
  connectionState = 'new'
  onconnectionstatechange: (() => void) | null = null
  ondatachannel: ((event: { channel: FakeChannel }) => void) | null = null
  constructor (readonly config?: unknown) {
    super()
    // Like the polyfill: handler properties are fed by listeners added in the constructor.
    this.addEventListener('connectionstatechange', () => this.onconnectionstatechange?.())
  }

  close (): void {
    FakeConnection.closes++
    this.connectionState = 'closed'
  }

  createDataChannel (): FakeChannel {
    return new FakeChannel()
  }

  /** What the native side does: a state change, then the event. */
  become (state: string): void {
    this.connectionState = state
    this.dispatchEvent(new Event('connectionstatechange'))
  }

  receiveChannel (channel: FakeChannel): void {
    this.dispatchEvent(Object.assign(new Event('datachannel'), { channel }))
  }
}

describe('releaseClosedConnections', () => {
  it('closes a connection the far side closed, and drops its handlers, listeners and channels\' handlers', () => {
    const Releasing = releaseClosedConnections(FakeConnection)
    const connection = new Releasing({ iceServers: [] })
    expect(connection.config).toEqual({ iceServers: [] })
    const ownChannel = connection.createDataChannel()
    const remoteChannel = new FakeChannel()
    connection.receiveChannel(remoteChannel)
    const heard: string[] = []
    connection.onconnectionstatechange = () => heard.push(`handler ${connection.connectionState}`)
    const listener = (): void => { heard.push(`listener ${connection.connectionState}`) }
    connection.addEventListener('iceconnectionstatechange', listener)
    for (const channel of [ownChannel, remoteChannel]) channel.onclose = () => heard.push('channel close')

    const closesBefore = FakeConnection.closes
    connection.become('connected')
    expect(FakeConnection.closes).toBe(closesBefore)
    connection.become('closed')
    // Trystero's handler heard the end before anything was dropped.
    expect(heard).toEqual(['handler connected', 'handler closed'])
    expect(FakeConnection.closes).toBe(closesBefore + 1)
    expect(connection.onconnectionstatechange).toBeNull()
    for (const channel of [ownChannel, remoteChannel]) expect(channel.onclose).toBeNull()
    connection.dispatchEvent(new Event('iceconnectionstatechange'))
    connection.dispatchEvent(new Event('connectionstatechange'))
    expect(heard).toEqual(['handler connected', 'handler closed'])
  })

  it('closes a failed connection too', () => {
    const connection = new (releaseClosedConnections(FakeConnection))()
    const closesBefore = FakeConnection.closes
    connection.become('failed')
    expect(FakeConnection.closes).toBe(closesBefore + 1)
  })

  it('forgets a listener removed before the end, and keeps those added after it to the connection', () => {
    const connection = new (releaseClosedConnections(FakeConnection))()
    const heard: string[] = []
    const removed = (): void => { heard.push('removed') }
    connection.addEventListener('icegatheringstatechange', removed)
    connection.removeEventListener('icegatheringstatechange', removed)
    connection.dispatchEvent(new Event('icegatheringstatechange'))
    expect(heard).toEqual([])
    // What the release removes: every listener it holds, not the one removed already (an
    // EventTarget would ignore that one anyway, so look at the calls).
    const removedAtEnd: unknown[] = []
    const removeOwn = connection.removeEventListener.bind(connection)
    connection.removeEventListener = (type: string, listener: any, options?: any) => {
      removedAtEnd.push(listener)
      removeOwn(type, listener, options)
    }
    connection.become('closed')
    expect(removedAtEnd.length).toBeGreaterThan(0)
    expect(removedAtEnd).not.toContain(removed)
    connection.addEventListener('late', () => heard.push('late'))
    connection.dispatchEvent(new Event('late'))
    expect(heard).toEqual(['late'])
  })

  it('makes one subclass per class, and leaves its own subclass as it is', () => {
    const Releasing = releaseClosedConnections(FakeConnection)
    expect(releaseClosedConnections(FakeConnection)).toBe(Releasing)
    expect(releaseClosedConnections(Releasing)).toBe(Releasing)
    expect(new Releasing()).toBeInstanceOf(FakeConnection)
  })

  it('changes nothing for a class without events', () => {
    let closes = 0
    class Bare {
      connectionState = 'closed'
      close (): void { closes++ }
      createDataChannel (): object { return {} }
    }
    const connection = new (releaseClosedConnections(Bare))()
    expect(connection.createDataChannel()).toEqual({})
    expect(closes).toBe(0)
  })
})
