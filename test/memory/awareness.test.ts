/** Awareness over the in-memory network: states appear, and vanish at once when a peer goes. */
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryMesh, type MemoryTestPeer } from '../support/memory-peers.js'
import { on, until } from '../support/wait.js'

const sees = (observer: MemoryTestPeer, observed: MemoryTestPeer): boolean =>
  observer.provider.awareness.getStates().has(observed.doc.clientID)

const waitUntilSees = async (observer: MemoryTestPeer, observed: MemoryTestPeer, expected = true): Promise<void> =>
  await until(`awareness of ${observed.doc.clientID} at ${observer.doc.clientID} to be ${expected}`,
    () => sees(observer, observed) === expected, [on(observer.provider.awareness, 'change')])

describe('awareness over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it("shows a peer's state at the others, and its changes", async () => {
    const a = mesh.add()
    const b = mesh.add()
    a.provider.awareness.setLocalStateField('user', { name: 'Ada' })
    await waitUntilSees(b, a)
    expect(b.provider.awareness.getStates().get(a.doc.clientID)).toEqual({ user: { name: 'Ada' } })
    a.provider.awareness.setLocalStateField('cursor', 7)
    await until('cursor at B', () => b.provider.awareness.getStates().get(a.doc.clientID)?.['cursor'] === 7,
      [on(b.provider.awareness, 'change')])
  })

  it('removes the state of a peer that left cleanly, without the 30 s timeout', async () => {
    const a = mesh.add()
    const b = mesh.add()
    b.provider.awareness.setLocalStateField('user', 'Bob')
    await waitUntilSees(a, b)
    const origins: unknown[] = []
    a.provider.awareness.on('change', (_: unknown, origin: unknown) => origins.push(origin))
    await b.provider.destroy()
    await waitUntilSees(a, b, false)
    expect(origins).toEqual([a.provider])
  })

  it('removes the state of a peer whose link was cut (it sent no goodbye)', async () => {
    const a = mesh.add()
    const b = mesh.add()
    b.provider.awareness.setLocalStateField('user', 'Bob')
    await waitUntilSees(a, b)
    mesh.network.partition([a.peer.selfId], [b.peer.selfId])
    expect(sees(a, b)).toBe(false)
    expect(a.provider.peers).toEqual([])
    mesh.network.heal()
    await waitUntilSees(a, b)
  })

  it('on disconnect removes ours at the others and theirs here; connect restores ours', async () => {
    const a = mesh.add()
    const b = mesh.add()
    a.provider.awareness.setLocalStateField('user', 'Ada')
    b.provider.awareness.setLocalStateField('user', 'Bob')
    await waitUntilSees(a, b)
    await waitUntilSees(b, a)
    await a.provider.disconnect()
    expect(sees(a, b)).toBe(false)
    expect(a.provider.awareness.getLocalState()).toBeNull()
    await waitUntilSees(b, a, false)
    await a.provider.connect()
    expect(a.provider.awareness.getLocalState()).toEqual({ user: 'Ada' })
    await waitUntilSees(b, a)
    await waitUntilSees(a, b)
  })

  it('never relays: a state reaches only the peers its owner is connected to', async () => {
    const a = mesh.add()
    const b = mesh.add()
    const c = mesh.add()
    // A line B - A - C: B and C cannot reach each other, A is connected to both.
    mesh.network.cutLink(b.peer.selfId, c.peer.selfId)
    a.provider.awareness.setLocalStateField('user', 'Ada')
    b.provider.awareness.setLocalStateField('user', 'Bob')
    await waitUntilSees(a, b)
    await waitUntilSees(c, a)
    await mesh.network.settle()
    expect(sees(c, b)).toBe(false)
    mesh.network.restoreLink(b.peer.selfId, c.peer.selfId)
    await waitUntilSees(c, b)
  })

  it('removes our state on pagehide in a browser', async () => {
    const fakeWindow = new EventTarget()
    ;(globalThis as { window?: unknown }).window = fakeWindow
    try {
      const a = mesh.add()
      const b = mesh.add()
      a.provider.awareness.setLocalStateField('user', 'Ada')
      await waitUntilSees(b, a)
      fakeWindow.dispatchEvent(new Event('pagehide'))
      expect(a.provider.awareness.getLocalState()).toBeNull()
      await waitUntilSees(b, a, false)
    } finally {
      delete (globalThis as { window?: unknown }).window
    }
  })
})
