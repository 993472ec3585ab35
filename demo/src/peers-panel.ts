/**
 * Who is here: every peer with the document open, by the name and colour it announced in its
 * awareness state, with its round-trip time (Trystero's ping) and the bytes exchanged with it.
 */
import type { TrysteroProvider } from 'trystero-yjs'
import type { Identity } from './identity.js'

const pingEveryMs = 2000

const formatBytes = (bytes: number): string =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`

export const mountPeersPanel = (root: HTMLElement, provider: TrysteroProvider, identity: () => Identity): () => void => {
  const list = root.querySelector<HTMLUListElement>('#peers')!
  const status = root.querySelector<HTMLElement>('#status')!
  const roundTrips = new Map<string, number>()

  const userOf = (peerId: string): { name: string, color: string } | null => {
    for (const clientId of provider.peerAwareness(peerId)) {
      const user = provider.awareness.getStates().get(clientId)?.['user'] as { name?: unknown, color?: unknown } | undefined
      if (typeof user?.name === 'string' && typeof user.color === 'string') return { name: user.name, color: user.color }
    }
    return null
  }

  const row = (name: string, color: string, detail: string, peerId?: string): HTMLLIElement => {
    const item = document.createElement('li')
    if (peerId !== undefined) item.dataset['peer'] = peerId
    const dot = document.createElement('span')
    dot.className = 'dot'
    dot.style.background = color
    const label = document.createElement('b')
    label.textContent = name
    const small = document.createElement('small')
    small.textContent = detail
    item.append(dot, label, small)
    return item
  }

  const render = (): void => {
    const me = identity()
    const rows = [row(me.name, me.color, 'you')]
    for (const peerId of provider.peers) {
      const user = userOf(peerId)
      const traffic = provider.trafficWith(peerId)
      const rtt = roundTrips.get(peerId)
      rows.push(row(user?.name ?? 'someone', user?.color ?? '#888', [
        rtt === undefined ? 'rtt …' : `rtt ${rtt} ms`,
        `↑ ${formatBytes(traffic.bytesSent)}`,
        `↓ ${formatBytes(traffic.bytesReceived)}`
      ].join(' · '), peerId))
    }
    list.replaceChildren(...rows)
    const total = provider.traffic
    status.dataset['status'] = provider.status
    status.dataset['synced'] = String(provider.synced)
    status.textContent = `${provider.status}${provider.connected ? (provider.synced ? ', synced' : ', syncing…') : ''} · ` +
      `${provider.peers.length} peer${provider.peers.length === 1 ? '' : 's'} · ↑ ${formatBytes(total.bytesSent)} ↓ ${formatBytes(total.bytesReceived)}`
  }

  const ping = async (): Promise<void> => {
    const room = provider.room
    if (room?.ping === undefined) return
    await Promise.all(provider.peers.map(async (peerId) => {
      try {
        roundTrips.set(peerId, await room.ping!(peerId))
      } catch {
        roundTrips.delete(peerId)
      }
    }))
    render()
  }

  for (const event of ['peers', 'status', 'synced'] as const) provider.on(event, render)
  // A new peer gets its round-trip time at once, not at the next tick.
  provider.on('peers', ({ added }) => { if (added.length > 0) void ping() })
  provider.awareness.on('change', render)
  const timer = setInterval(() => { void ping() }, pingEveryMs)
  render()
  return () => clearInterval(timer)
}
