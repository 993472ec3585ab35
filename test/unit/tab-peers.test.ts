/**
 * TabPeers: one channel over WebRTC (a fake hub handle here) and the page's tabs (Node's own
 * BroadcastChannel, between two "pages" of this process). One path per page: a WebRTC peer whose
 * page is one of our tabs is hidden while the tab is there, and comes back when the tab says BYE.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ChannelHandle, ChannelMember } from '../../src/room-hub.js'
import { TrysteroYjsError } from '../../src/errors.js'
import { TabPeers, tabChannelName } from '../../src/room/tab-peers.js'
import type { TrysteroRoom } from '../../src/room-types.js'
import { until } from '../support/wait.js'

interface FakePage {
  events: string[]
  received: Array<{ data: unknown, peerId: string }>
  webrtcSent: Array<{ data: Uint8Array, targets: readonly string[] }>
  /** What the hub would tell the member about WebRTC peers. */
  webrtcMember: ChannelMember
  handle: ChannelHandle
  reports: TrysteroYjsError[]
  /** Wakes `until` on anything the member hears. */
  wake: Set<() => void>
}

let rooms = 0
const detachers: Array<() => void> = []
afterEach(() => { for (const detach of detachers.splice(0)) detach() })

/** A page with channel `ty:d:` open; `webrtcInstances` is what WebRTC HELLOs said. */
const page = (name: string, instance: string, webrtcInstances: Record<string, string> = {}, options: { key?: CryptoKey | null, role?: 'writer' | 'viewer' } = {}): FakePage => {
  const wake = new Set<() => void>()
  const result = { events: [] as string[], received: [] as FakePage['received'], webrtcSent: [] as FakePage['webrtcSent'], reports: [] as TrysteroYjsError[], wake } as FakePage
  const notify = (): void => { for (const f of wake) f() }
  const member: ChannelMember = {
    peerOpened: (peerId) => { result.events.push(`open ${peerId}`); notify() },
    peerClosed: (peerId) => { result.events.push(`close ${peerId}`); notify() },
    pendingChanged: () => {},
    message: (data, peerId) => { result.received.push({ data, peerId }); notify() },
    roomLeft: () => {},
    report: (_kind, error) => { result.reports.push(error); notify() }
  }
  const tabs = new TabPeers({ name, instance, role: options.role ?? 'writer', key: options.key ?? null, instanceOf: (peerId) => webrtcInstances[peerId] ?? null })
  result.handle = tabs.attach('ty:d:', member, (webrtcMember) => {
    result.webrtcMember = webrtcMember
    return {
      room: {} as TrysteroRoom,
      ownRole: options.role ?? 'writer',
      openPeers: () => [],
      isAdmitted: () => true,
      refused: () => false,
      roleOf: () => 'writer',
      pendingPeerCount: () => 0,
      lastHeard: () => null,
      disconnect: () => {},
      compactSync: () => true,
      acceptsCompact: true,
      charge: () => true,
      send: async (data, targets) => { result.webrtcSent.push({ data, targets }) },
      detach: () => {}
    }
  })
  detachers.push(() => result.handle.detach())
  return result
}

const waitFor = async (pages: FakePage[], what: string, check: () => boolean): Promise<void> =>
  await until(what, check, pages.map((p) => (wake: () => void) => { p.wake.add(wake); return () => p.wake.delete(wake) }))

const tabOf = (p: FakePage): string => p.events.find((event) => event.startsWith('open tab:'))!.slice('open '.length)

describe('TabPeers', () => {
  it('routes frames to and from tabs over the BroadcastChannel, and to WebRTC peers over WebRTC', async () => {
    const name = tabChannelName('app', `unit-${++rooms}`)
    const a = page(name, 'page-a')
    const b = page(name, 'page-b')
    await waitFor([a, b], 'each sees the other tab', () => a.events.length === 1 && b.events.length === 1)
    const tabB = tabOf(a)
    a.webrtcMember.peerOpened('w-c')
    expect(a.handle.openPeers()).toEqual(['w-c', tabB])
    await a.handle.send(Uint8Array.of(1, 2, 3), [tabB, 'w-c'])
    await waitFor([b], 'b gets the frame', () => b.received.length === 1)
    expect(b.received[0]).toEqual({ data: Uint8Array.of(1, 2, 3), peerId: tabOf(b) })
    expect(a.webrtcSent).toEqual([{ data: Uint8Array.of(1, 2, 3), targets: ['w-c'] }])
    // Tabs are neither compressed for nor watched by the heartbeat.
    expect(a.handle.compactSync(tabB)).toBe(false)
    expect(a.handle.compactSync('w-c')).toBe(true)
    expect(a.handle.lastHeard(tabB)).toBeNull()
  })

  it('hides a WebRTC peer that is one of our tabs, drops what it sends, and shows it again after the tab\'s BYE', async () => {
    const name = tabChannelName('app', `unit-${++rooms}`)
    const a = page(name, 'page-a', { 'w-b': 'page-b' })
    a.webrtcMember.peerOpened('w-b')
    expect(a.events).toEqual(['open w-b'])
    const b = page(name, 'page-b')
    await waitFor([a], 'a sees b\'s tab', () => a.events.length === 3)
    const tabB = tabOf(a)
    expect(a.events).toEqual(['open w-b', 'close w-b', `open ${tabB}`])
    expect(a.handle.openPeers()).toEqual([tabB])
    // What b sent over WebRTC before it saw a's tab is dropped; nothing is sent to it there.
    a.webrtcMember.message(Uint8Array.of(9), 'w-b')
    expect(a.received).toEqual([])
    await a.handle.send(Uint8Array.of(7), ['w-b'])
    expect(a.webrtcSent).toEqual([])
    // b closes its last channel: BYE, and its WebRTC side is a peer again.
    b.handle.detach()
    await waitFor([a], 'a hears the BYE', () => a.events.length === 5)
    expect(a.events.slice(3)).toEqual([`close ${tabB}`, 'open w-b'])
    a.webrtcMember.message(Uint8Array.of(9), 'w-b')
    expect(a.received).toEqual([{ data: Uint8Array.of(9), peerId: 'w-b' }])
  })

  it('tells a viewer tab by its role, and shuns a tab it is told to disconnect', async () => {
    const name = tabChannelName('app', `unit-${++rooms}`)
    const a = page(name, 'page-a')
    const viewer = page(name, 'page-v', {}, { role: 'viewer' })
    await waitFor([a, viewer], 'each sees the other', () => a.events.length === 1 && viewer.events.length === 1)
    const tabV = tabOf(a)
    expect(a.handle.roleOf(tabV)).toBe('viewer')
    expect(viewer.handle.roleOf(tabOf(viewer))).toBe('writer')
    expect(a.handle.isAdmitted(tabV)).toBe(true)
    a.handle.disconnect(tabV, new TrysteroYjsError('refused', { peerId: tabV }))
    expect(a.reports.map((error) => error.message)).toEqual([expect.stringContaining('refused')])
    expect(a.events).toEqual([`open ${tabV}`, `close ${tabV}`])
    expect(a.handle.isAdmitted(tabV)).toBe(false)
    // Whatever it says next is not heard; a third tab hears what it said after.
    const c = page(name, 'page-c')
    await waitFor([c, viewer], 'the viewer and a third tab see each other', () => c.events.length === 2 && viewer.events.length === 2)
    await viewer.handle.send(Uint8Array.of(5), [tabOf(viewer)])
    await viewer.handle.send(Uint8Array.of(6), [viewer.events[1]!.slice('open '.length)])
    await waitFor([c], 'the third tab gets the viewer\'s later frame', () => c.received.length === 1)
    expect(a.received).toEqual([])
  })

  it('in a private room, tabs with another key (or none) are not heard and hear nothing', async () => {
    const name = tabChannelName('app', `unit-${++rooms}`)
    const key = async (): Promise<CryptoKey> => await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
    const shared = await key()
    const a = page(name, 'page-a', {}, { key: shared })
    const other = page(name, 'page-o', {}, { key: await key() })
    const open = page(name, 'page-n')
    const b = page(name, 'page-b', {}, { key: shared })
    await waitFor([a, b], 'a and b see each other', () => a.events.length === 1 && b.events.length === 1)
    await a.handle.send(new TextEncoder().encode('plain words'), [tabOf(a)])
    await waitFor([b], 'b gets the frame', () => b.received.length === 1)
    expect(other.events).toEqual([])
    expect(open.events).toEqual([])
  })
})
