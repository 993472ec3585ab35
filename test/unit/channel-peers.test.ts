/** One channel's peers from WebRTC and from the page's tabs: a page on both is seen once, as a tab. */
import { describe, expect, it } from 'vitest'
import { ChannelPeers } from '../../src/room/channel-peers.js'

const recorder = () => {
  const events: string[] = []
  const peers = new ChannelPeers({ peerOpened: (id) => events.push(`open ${id}`), peerClosed: (id) => events.push(`close ${id}`) })
  return { events, peers }
}

describe('ChannelPeers', () => {
  it('shows WebRTC peers and tabs', () => {
    const { events, peers } = recorder()
    peers.webrtcOpened('w1', 'page-1')
    peers.tabOpened('tab:a', 'page-2')
    expect(events).toEqual(['open w1', 'open tab:a'])
    expect(peers.visible()).toEqual(['w1', 'tab:a'])
  })

  it('a tab that is also a WebRTC peer is seen once, as the tab; its WebRTC side comes back when the tab goes', () => {
    const { events, peers } = recorder()
    peers.webrtcOpened('w1', 'page-1')
    peers.tabOpened('tab:a', 'page-1')
    expect(events).toEqual(['open w1', 'close w1', 'open tab:a'])
    expect(peers.visible()).toEqual(['tab:a'])
    expect(peers.isVisible('w1')).toBe(false)
    peers.tabClosed('tab:a')
    expect(events.slice(3)).toEqual(['close tab:a', 'open w1'])
    expect(peers.visible()).toEqual(['w1'])
  })

  it('a WebRTC peer arriving after its tab stays hidden, and closing it is silent', () => {
    const { events, peers } = recorder()
    peers.tabOpened('tab:a', 'page-1')
    peers.webrtcOpened('w1', 'page-1')
    peers.webrtcClosed('w1')
    expect(events).toEqual(['open tab:a'])
    peers.tabClosed('tab:a')
    expect(events).toEqual(['open tab:a', 'close tab:a'])
  })

  it('a WebRTC peer whose HELLO named no instance (an older version) is never hidden', () => {
    const { events, peers } = recorder()
    peers.webrtcOpened('w1', null)
    peers.tabOpened('tab:a', 'page-1')
    expect(events).toEqual(['open w1', 'open tab:a'])
  })
})
