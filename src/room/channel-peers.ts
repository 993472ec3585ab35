/**
 * The peers one channel (document) sees in a room, from two transports: Trystero (WebRTC) and the
 * page's other tabs (BroadcastChannel, src/transport/tab-channel.ts). A tab of this browser that
 * is also a WebRTC peer — the same page instance on both, as both HELLOs say — is seen once, as a
 * tab: the BroadcastChannel works without a network and costs no bytes on it, so nothing goes
 * twice. When that tab goes, its WebRTC side is seen again, if it is still there.
 */

export interface ChannelPeersMember {
  /** `stateVector`: what a WebRTC peer's HELLO or OPEN carried (compact sync), passed on. */
  peerOpened: (peerId: string, stateVector?: Uint8Array) => void
  peerClosed: (peerId: string) => void
}

export class ChannelPeers {
  /** WebRTC peers with the channel open, and their page instance (if their HELLO said it). */
  private readonly webrtc = new Map<string, string | null>()
  /** Tab peers with the channel open, and their page instance. */
  private readonly tabs = new Map<string, string>()

  constructor (private readonly member: ChannelPeersMember) {}

  /** Everyone this channel sees: tabs, and WebRTC peers that are not one of them. */
  visible (): string[] {
    return [...[...this.webrtc.keys()].filter((peerId) => !this.shadowed(peerId)), ...this.tabs.keys()]
  }

  isVisible (peerId: string): boolean {
    return this.tabs.has(peerId) || (this.webrtc.has(peerId) && !this.shadowed(peerId))
  }

  /** A WebRTC peer that is one of our tabs: nothing goes to it or comes from it on this channel. */
  hidden (peerId: string): boolean {
    return this.shadowed(peerId)
  }

  webrtcOpened (peerId: string, instance: string | null, stateVector?: Uint8Array): void {
    if (this.webrtc.has(peerId)) return
    this.webrtc.set(peerId, instance)
    if (!this.shadowed(peerId)) this.member.peerOpened(peerId, stateVector)
  }

  webrtcClosed (peerId: string): void {
    if (!this.webrtc.has(peerId)) return
    const wasVisible = !this.shadowed(peerId)
    this.webrtc.delete(peerId)
    if (wasVisible) this.member.peerClosed(peerId)
  }

  tabOpened (tabId: string, instance: string): void {
    if (this.tabs.has(tabId)) return
    // Its WebRTC side, if open, steps aside first: one peer, one path.
    for (const [peerId, webrtcInstance] of this.webrtc) {
      if (webrtcInstance === instance && !this.shadowed(peerId)) this.member.peerClosed(peerId)
    }
    this.tabs.set(tabId, instance)
    this.member.peerOpened(tabId)
  }

  tabClosed (tabId: string): void {
    const instance = this.tabs.get(tabId)
    if (instance === undefined) return
    this.tabs.delete(tabId)
    this.member.peerClosed(tabId)
    for (const [peerId, webrtcInstance] of this.webrtc) {
      if (webrtcInstance === instance && !this.shadowed(peerId)) this.member.peerOpened(peerId)
    }
  }

  /** Whether any tab has this channel open (without any, nothing is hidden). */
  get hasTabs (): boolean {
    return this.tabs.size > 0
  }

  private shadowed (peerId: string): boolean {
    if (this.tabs.size === 0) return false
    const instance = this.webrtc.get(peerId)
    if (instance === null || instance === undefined) return false
    for (const tabInstance of this.tabs.values()) if (tabInstance === instance) return true
    return false
  }
}
