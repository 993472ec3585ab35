/**
 * Who is here: every peer with the document open, by the name and colour it announced in its
 * awareness state, with its round-trip time (Trystero's ping) and the bytes exchanged with it.
 *
 * The list is the provider's `peers`, redrawn on every `peers` event: a peer is gone from here
 * the moment the provider drops it. Until then, a round trip is shown only while it is fresh: a
 * ping that failed, or is unanswered after `lateAfterMs`, shows the peer as not answering rather
 * than its last figure.
 */
import type { TrysteroProvider } from 'trystero-yjs'
import type { Identity } from './identity.js'

const pingEveryMs = 2000
/** A ping unanswered this long marks the peer as not answering (loopback answers in ~1 ms). */
export const lateAfterMs = 1500

const formatBytes = (bytes: number): string =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`

interface Liveness {
  /** The last answered ping's round trip, while no later ping failed or is late. */
  rtt: number | null
  /** When the ping under way was sent; `null` if none is. */
  pendingSince: number | null
  /** The last ping failed (Trystero rejected it: the peer is gone from the room). */
  failed: boolean
}

export const mountPeersPanel = (root: HTMLElement, provider: TrysteroProvider, identity: () => Identity): () => void => {
  const list = root.querySelector<HTMLUListElement>('#peers')!
  const alone = root.querySelector<HTMLElement>('#alone')!
  const liveness = new Map<string, Liveness>()

  const userOf = (peerId: string): { name: string, color: string } | null => {
    for (const clientId of provider.peerAwareness(peerId)) {
      const user = provider.awareness.getStates().get(clientId)?.['user'] as { name?: unknown, color?: unknown } | undefined
      if (typeof user?.name === 'string' && typeof user.color === 'string') return { name: user.name, color: user.color }
    }
    return null
  }

  const row = (name: string, color: string, detail: string, peerId?: string, stale = false): HTMLLIElement => {
    const item = document.createElement('li')
    if (peerId !== undefined) item.dataset['peer'] = peerId
    item.classList.toggle('stale', stale)
    const avatar = document.createElement('span')
    avatar.className = 'avatar'
    avatar.style.background = color
    avatar.textContent = name.slice(0, 1).toUpperCase()
    const label = document.createElement('b')
    label.textContent = name
    const small = document.createElement('small')
    small.className = 'detail'
    small.textContent = detail
    const text = document.createElement('span')
    text.className = 'who'
    text.append(label, small)
    item.append(avatar, text)
    return item
  }

  /** `rtt 3 ms`, or why there is no fresh figure. */
  const roundTrip = (peerId: string, now: number): { text: string, stale: boolean } => {
    // Another tab of this browser, over the BroadcastChannel: no WebRTC peer to ping.
    if (peerId.startsWith('tab:')) return { text: 'another tab', stale: false }
    const live = liveness.get(peerId)
    if (live === undefined) return { text: 'rtt …', stale: false }
    if (live.failed) return { text: 'not answering', stale: true }
    if (live.pendingSince !== null && now - live.pendingSince >= lateAfterMs) {
      return { text: `no answer for ${((now - live.pendingSince) / 1000).toFixed(0)} s`, stale: true }
    }
    return { text: live.rtt === null ? 'rtt …' : `rtt ${live.rtt} ms`, stale: false }
  }

  const render = (): void => {
    const me = identity()
    const now = performance.now()
    const rows = [row(me.name, me.color, 'you')]
    for (const peerId of provider.peers) {
      const user = userOf(peerId)
      const traffic = provider.trafficWith(peerId)
      const { text, stale } = roundTrip(peerId, now)
      rows.push(row(user?.name ?? 'someone', user?.color ?? '#888888', [text, `↑ ${formatBytes(traffic.bytesSent)}`, `↓ ${formatBytes(traffic.bytesReceived)}`].join(' · '), peerId, stale))
    }
    list.replaceChildren(...rows)
    alone.hidden = !(provider.connected && provider.peers.length === 0)
  }

  const ping = (peerId: string): void => {
    if (peerId.startsWith('tab:')) return
    const room = provider.room
    const live = liveness.get(peerId) ?? { rtt: null, pendingSince: null, failed: false }
    liveness.set(peerId, live)
    // One ping at a time per peer: an unanswered one keeps counting, and is what the row shows.
    if (room?.ping === undefined || live.pendingSince !== null) return
    const sentAt = performance.now()
    live.pendingSince = sentAt
    room.ping(peerId).then((rtt) => {
      Object.assign(live, { rtt: Math.round(rtt), pendingSince: null, failed: false })
    }, () => {
      Object.assign(live, { rtt: null, pendingSince: null, failed: true })
    }).finally(render)
    // Redrawn when it turns late, not only at the next tick.
    setTimeout(() => { if (live.pendingSince === sentAt) render() }, lateAfterMs)
  }

  const tick = (): void => {
    for (const peerId of provider.peers) ping(peerId)
    render()
  }

  for (const event of ['peers', 'status', 'synced'] as const) provider.on(event, render)
  provider.on('peers', ({ added, removed }) => {
    for (const peerId of removed) liveness.delete(peerId)
    // A new peer gets its round-trip time at once, not at the next tick.
    for (const peerId of added) ping(peerId)
  })
  provider.awareness.on('change', render)
  const timer = setInterval(tick, pingEveryMs)
  render()
  return () => clearInterval(timer)
}
