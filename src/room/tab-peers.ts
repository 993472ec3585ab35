/**
 * A room's channels over two transports (PROTOCOL.md §7): the room hub's WebRTC peers and the
 * page's other tabs on the room's `BroadcastChannel` (src/transport/tab-channel.ts). A channel's
 * member (a provider's document session) gets one `ChannelHandle` and one set of peers, whichever
 * way each peer is reached: tab peers (`tab:…`) are synced exactly like WebRTC peers (step 1,
 * step 2, updates, awareness, the viewer role). A WebRTC peer that is also one of our tabs (the
 * same page instance in both HELLOs) is hidden while the tab is there (src/room/channel-peers.ts):
 * nothing goes twice, and what it sent over WebRTC before it saw our tab is dropped (the step 2
 * it then sends over the BroadcastChannel carries it).
 *
 * Tabs are watched by the tab channel's own heartbeat (PING/PONG on the BroadcastChannel, §7),
 * not the hub's; they are not rate-limited and not compressed for: they share our origin, and in
 * a private room they proved the room's key by speaking it. A tab that breaks a rule is shunned, as a WebRTC peer would be
 * disconnected.
 */
import type { RoomRole } from '../admission/room-keys.js'
import { TrysteroYjsError } from '../errors.js'
import type { ChannelHandle, ChannelMember } from './channel-contract.js'
import { TabChannel, tabPeerPrefix, type TabHandle } from '../transport/tab-channel.js'
import { ChannelPeers } from './channel-peers.js'

export interface TabPeersOptions {
  /** The `BroadcastChannel`'s name: `trystero-yjs/<appId>/<roomId>`. */
  name: string
  /** This page's instance id in this room, also sent in our WebRTC HELLO. */
  instance: string
  role: RoomRole
  /** A private room's `broadcastKey`, or `null` in an open room (messages go as they are). */
  key: CryptoKey | null
  /** The page instance a WebRTC peer's HELLO named, if any. */
  instanceOf: (peerId: string) => string | null
}

/** The name of a room's BroadcastChannel (PROTOCOL.md §7). */
export const tabChannelName = (appId: string, roomId: string): string => `trystero-yjs/${appId}/${roomId}`

/** A fresh page instance id: 96 random bits, base64url. */
export const newPageInstance = (): string =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(12)))).replaceAll('+', '-').replaceAll('/', '_')

/** Whether a platform has the BroadcastChannel a room's tabs need. */
export const broadcastChannelAvailable = (): boolean => typeof globalThis.BroadcastChannel === 'function'

export const isTabPeer = (peerId: string): boolean => peerId.startsWith(tabPeerPrefix)

export class TabPeers {
  constructor (private readonly options: TabPeersOptions) {}

  /**
   * Opens channel `key` over both transports for `member`: `attachWebrtc` is the hub's own attach,
   * given a member that passes WebRTC peers through the one-path rule.
   */
  attach (key: string, member: ChannelMember, attachWebrtc: (member: ChannelMember) => ChannelHandle): ChannelHandle {
    // Peers known before the member holds its handle are read from `openPeers()`, not announced.
    let announcing = false
    const peers = new ChannelPeers({
      peerOpened: (peerId, stateVector) => { if (announcing) member.peerOpened(peerId, stateVector) },
      peerClosed: (peerId) => { if (announcing) member.peerClosed(peerId) }
    })
    let tabs: TabHandle | null = null
    const webrtc = attachWebrtc({
      ...member,
      peerOpened: (peerId, stateVector) => peers.webrtcOpened(peerId, this.options.instanceOf(peerId), stateVector),
      peerClosed: (peerId) => peers.webrtcClosed(peerId),
      message: (data, peerId) => { if (!peers.hidden(peerId)) member.message(data, peerId) },
      progress: (peerId) => { if (!peers.hidden(peerId)) member.progress?.(peerId) },
      roomLeft: () => {
        tabs?.detach()
        member.roomLeft()
      }
    })
    const tabHandle: TabHandle = tabs = TabChannel.for(this.options.name, this.options).attach(key, {
      peerOpened: (tabId) => peers.tabOpened(tabId, tabHandle.instanceOf(tabId) ?? tabId),
      peerClosed: (tabId) => peers.tabClosed(tabId),
      message: (data, tabId) => member.message(data, tabId),
      report: (kind, error) => member.report(kind, error)
    })
    for (const peerId of webrtc.openPeers()) peers.webrtcOpened(peerId, this.options.instanceOf(peerId))
    for (const tabId of tabHandle.openPeers()) peers.tabOpened(tabId, tabHandle.instanceOf(tabId) ?? tabId)
    announcing = true
    return {
      room: webrtc.room,
      ownRole: webrtc.ownRole,
      openPeers: () => peers.visible(),
      // A tab that speaks the room's key (or, in an open room, any tab of the origin) is in.
      isAdmitted: (peerId) => isTabPeer(peerId) ? tabHandle.roleOf(peerId) !== null : webrtc.isAdmitted(peerId),
      // A tab shunned has nothing waiting with us: tabs send no compact messages.
      refused: (peerId) => !isTabPeer(peerId) && webrtc.refused(peerId),
      roleOf: (peerId) => isTabPeer(peerId) ? tabHandle.roleOf(peerId) : webrtc.roleOf(peerId),
      pendingPeerCount: () => webrtc.pendingPeerCount(),
      lastHeard: (peerId) => isTabPeer(peerId) ? null : webrtc.lastHeard(peerId),
      disconnect: (peerId, error) => {
        if (!isTabPeer(peerId)) return webrtc.disconnect(peerId, error)
        member.report('error', error)
        tabHandle.shun(peerId)
      },
      // Nothing to save on a BroadcastChannel: compressing would only cost time.
      compactSync: (peerId) => !isTabPeer(peerId) && webrtc.compactSync(peerId),
      acceptsCompact: webrtc.acceptsCompact,
      charge: (peerId, bytes, messageType, messages) => isTabPeer(peerId) || webrtc.charge(peerId, bytes, messageType, messages),
      send: async (data, targets) => {
        // No tab with this channel: the WebRTC peers as they are (a keystroke's usual path).
        if (!peers.hasTabs) return await webrtc.send(data, targets)
        const toTabs = targets.filter(isTabPeer)
        const toWebrtc = targets.filter((peerId) => !isTabPeer(peerId) && !peers.hidden(peerId))
        // Like the hub's send: errors are reported, never thrown.
        const toTabsSent = toTabs.length === 0
          ? undefined
          : tabHandle.send(data, toTabs).catch((error: unknown) => member.report('error', new TrysteroYjsError('send to a tab failed', { peerId: toTabs.join(','), byteLength: data.byteLength, cause: error })))
        await Promise.all([toTabsSent, toWebrtc.length > 0 ? webrtc.send(data, toWebrtc) : undefined])
      },
      detach: () => {
        tabHandle.detach()
        webrtc.detach()
      }
    }
  }
}
