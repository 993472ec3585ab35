/**
 * Tabs over a BroadcastChannel (PROTOCOL.md §7), with Node's own `BroadcastChannel` between
 * providers of this process (`broadcastChannel: true`; off by default in Node) and the memory
 * network for WebRTC: the tabs sync with no network between them, and two tabs that are also
 * WebRTC peers send each other their document over the BroadcastChannel only.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { docChannelKey } from '../../src/index.js'
import { createMemoryMesh, type MemoryTestPeer } from '../support/memory-peers.js'
import { converged, nextEvent, on, until } from '../support/wait.js'

let rooms = 0
const freshRoom = (): string => `tabs-${process.pid}-${++rooms}`

describe('tabs over a BroadcastChannel', () => {
  const mesh = createMemoryMesh()
  const networks: Array<ReturnType<typeof createMemoryMesh>> = []
  /** A provider on a network of its own: no WebRTC path to anyone. */
  const isolated = (roomId: string, options = {}): MemoryTestPeer => {
    const own = createMemoryMesh()
    networks.push(own)
    return own.add(roomId, options)
  }
  afterEach(async () => {
    await mesh.reset()
    await Promise.all(networks.splice(0).map(async (network) => await network.reset()))
  })

  it('syncs documents and awareness both ways with no network between the tabs', async () => {
    const roomId = freshRoom()
    const a = isolated(roomId, { broadcastChannel: true })
    const b = isolated(roomId, { broadcastChannel: true })
    const [event] = await nextEvent<[{ bcPeers: string[], webrtcPeers: string[], peers: string[] }]>(a.provider, 'peers')
    expect(event.bcPeers).toHaveLength(1)
    expect(event.bcPeers[0]).toMatch(/^tab:/)
    expect(event.webrtcPeers).toEqual([])
    a.doc.getText('t').insert(0, 'from a ')
    b.doc.getText('t').insert(0, 'from b ')
    await converged([a.doc, b.doc], (doc) => doc.getText('t').toString())
    expect(a.doc.getText('t').length).toBe(14)
    await until('both synced', () => a.provider.synced && b.provider.synced, [on(a.provider, 'synced'), on(b.provider, 'synced')])
    expect(a.provider.peers).toEqual(event.bcPeers)

    b.provider.awareness.setLocalStateField('user', { name: 'bea' })
    await until('a sees b\'s awareness', () => [...a.provider.awareness.getStates().values()].some((state) => state['user']?.name === 'bea'),
      [on(a.provider.awareness, 'change')])
    // The state is b's, said by b's tab.
    expect(a.provider.peerAwareness(a.provider.peers[0]!)).toEqual([b.doc.clientID])
  })

  it('a tab that arrives after another is synced with it both ways (each one\'s step 1 is answered)', async () => {
    const roomId = freshRoom()
    const a = isolated(roomId, { broadcastChannel: true })
    a.doc.getText('t').insert(0, 'early')
    await a.provider.whenSynced()
    const b = isolated(roomId, { broadcastChannel: true })
    b.doc.getText('t').insert(0, 'late ')
    // synced means each asked the other (step 1) and applied its answer (step 2).
    await until('both synced with one tab', () => a.provider.synced && b.provider.synced && a.provider.peers.length === 1 && b.provider.peers.length === 1,
      [on(a.provider, 'synced'), on(b.provider, 'synced'), on(a.provider, 'peers'), on(b.provider, 'peers')], 5000)
    expect(a.doc.getText('t').toString()).toBe(b.doc.getText('t').toString())
  })

  it('a provider with broadcastChannel: false neither hears nor is heard by the tabs', async () => {
    const roomId = freshRoom()
    const off = isolated(roomId, { broadcastChannel: false })
    const a = isolated(roomId, { broadcastChannel: true })
    const b = isolated(roomId, { broadcastChannel: true })
    off.doc.getText('t').insert(0, 'off')
    a.doc.getText('t').insert(0, 'a')
    await until('b has a\'s edit', () => b.doc.getText('t').toString() === 'a', [on(b.doc, 'update')])
    expect(b.provider.peers).toHaveLength(1)
    expect(off.provider.peers).toEqual([])
    expect(off.doc.getText('t').toString()).toBe('off')
    expect(a.doc.getText('t').toString()).toBe('a')
  })

  it('tabs that are also WebRTC peers send their document and awareness over the BroadcastChannel only', async () => {
    const roomId = freshRoom()
    const a = mesh.add(roomId, { broadcastChannel: true })
    const b = mesh.add(roomId, { broadcastChannel: true })
    const onlyTabs = (peer: MemoryTestPeer): boolean => peer.provider.peers.length === 1 && peer.provider.peers[0]!.startsWith('tab:')
    // Both are seen as tabs, whichever path found the other first.
    await until('each sees the other once, as a tab', () => onlyTabs(a) && onlyTabs(b) && a.provider.synced && b.provider.synced,
      [on(a.provider, 'peers'), on(b.provider, 'peers'), on(a.provider, 'synced'), on(b.provider, 'synced')])
    await mesh.network.settle()
    const docAction = docChannelKey('')
    const before = mesh.network.stats.byAction[docAction]?.messages ?? 0
    const trafficBefore = a.provider.trafficWith(b.peer.selfId)
    const tabB = a.provider.peers[0]!
    const toTabBefore = a.provider.trafficWith(tabB).messagesSent

    for (let i = 0; i < 10; i++) a.doc.getText('t').insert(i, String(i))
    b.doc.getText('t').insert(0, '>')
    a.provider.awareness.setLocalStateField('user', { name: 'ada' })
    await converged([a.doc, b.doc], (doc) => doc.getText('t').toString())
    await until('b sees a\'s awareness', () => [...b.provider.awareness.getStates().values()].some((state) => state['user']?.name === 'ada'),
      [on(b.provider.awareness, 'change')])
    await mesh.network.settle()
    // Nothing of the document crossed the (memory) WebRTC network, nor was counted for b's WebRTC id.
    expect(mesh.network.stats.byAction[docAction]?.messages ?? 0).toBe(before)
    expect(a.provider.trafficWith(b.peer.selfId)).toEqual(trafficBefore)
    // The edits (one update: a tick's edits go together) and the awareness went to b's tab.
    expect(a.provider.trafficWith(tabB).messagesSent).toBeGreaterThanOrEqual(toTabBefore + 2)
    expect(a.provider.peers).toEqual([tabB])
  })

  it('a peer without tabs reads a HELLO that ends with a page instance (compact sync\'s state vectors before it intact)', async () => {
    const roomId = freshRoom()
    const withTabs = mesh.add(roomId, { broadcastChannel: true })
    const without = mesh.add(roomId, { broadcastChannel: false })
    const reports: string[] = []
    for (const { provider } of [withTabs, without]) {
      provider.on('error', (error) => reports.push(`error: ${error.message}`))
      provider.on('warning', (warning) => reports.push(`warning: ${warning.message}`))
    }
    withTabs.doc.getText('t').insert(0, 'a')
    without.doc.getText('t').insert(0, 'b')
    await converged([withTabs.doc, without.doc], (doc) => doc.getText('t').toString())
    await until('both synced over the (memory) network', () => withTabs.provider.synced && without.provider.synced && without.provider.peers.length === 1,
      [on(withTabs.provider, 'synced'), on(without.provider, 'synced'), on(without.provider, 'peers')])
    expect(without.provider.peers).toEqual([withTabs.peer.selfId])
    expect(reports).toEqual([])
  })

  it('a tab without the private room\'s key sees nothing; tabs with it sync, encrypted', async () => {
    const roomId = freshRoom()
    const password = 'tabs share this'
    const a = isolated(roomId, { broadcastChannel: true, password })
    const b = isolated(roomId, { broadcastChannel: true, password })
    const stranger = isolated(roomId, { broadcastChannel: true, password: 'another one' })
    const open = isolated(roomId, { broadcastChannel: true })
    const seen: Uint8Array[] = []
    const listener = new BroadcastChannel(`trystero-yjs/trystero-yjs-test/${roomId}`)
    listener.onmessage = (event: MessageEvent) => seen.push((event.data as { data: Uint8Array }).data)
    try {
      a.doc.getText('t').insert(0, 'secret text')
      await until('b has a\'s text', () => b.doc.getText('t').toString() === 'secret text', [on(b.doc, 'update')])
      expect(a.provider.peers).toHaveLength(1)
      expect(stranger.provider.peers).toEqual([])
      expect(open.provider.peers).toEqual([])
      expect(stranger.doc.getText('t').toString()).toBe('')
      expect(seen.length).toBeGreaterThan(0)
      const needle = new TextEncoder().encode('secret text')
      expect(seen.some((data) => indexOf(data, needle) >= 0)).toBe(false)
    } finally {
      listener.close()
    }
  })

  it('a viewer tab syncs the document in and its edits stay its own', async () => {
    const roomId = freshRoom()
    const password = 'viewers too'
    const writer = isolated(roomId, { broadcastChannel: true, password })
    writer.doc.getText('t').insert(0, 'written')
    const { deriveRoomKeys } = await import('../../src/index.js')
    const { viewKey } = await deriveRoomKeys(password, { appId: 'trystero-yjs-test', roomId })
    const viewer = isolated(roomId, { broadcastChannel: true, viewKey })
    await until('the viewer has the text', () => viewer.doc.getText('t').toString() === 'written', [on(viewer.doc, 'update')])
    await until('both synced', () => writer.provider.synced && viewer.provider.synced, [on(writer.provider, 'synced'), on(viewer.provider, 'synced')])
    // The writer asks nobody but writers, and sends to the viewer; the viewer's edit is not sent.
    viewer.doc.getText('t').insert(0, 'x')
    writer.doc.getText('t').insert(7, '!')
    await until('the viewer has the writer\'s edit', () => viewer.doc.getText('t').toString() === 'xwritten!', [on(viewer.doc, 'update')])
    expect(writer.doc.getText('t').toString()).toBe('written!')
  })
})

const indexOf = (haystack: Uint8Array, needle: Uint8Array): number => {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}
