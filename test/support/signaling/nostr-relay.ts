/**
 * A small Nostr relay on 127.0.0.1 for tests: NIP-01 EVENT / REQ / CLOSE with the filters
 * Trystero's Nostr strategy uses (`kinds`, `since`, `#x`), replying OK and EOSE. It does not
 * verify signatures: it only has to carry signaling between peers on this machine.
 *
 * Like real relays it does not store ephemeral events (NIP-16: kinds 20000–29999), which is what
 * Trystero's signaling events are: replaying them would feed a peer that rejoins a room within
 * the same second the offers and answers of its previous session.
 */
import { WebSocketServer, type WebSocket } from 'ws'
import type { AddressInfo } from 'node:net'

interface NostrEvent { id: string, kind: number, created_at: number, tags: string[][], content: string }
type Filter = { kinds?: number[], since?: number } & Record<string, unknown>

const isEphemeral = (event: NostrEvent): boolean => event.kind >= 20000 && event.kind < 30000

const matches = (event: NostrEvent, filter: Filter): boolean => {
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false
  if (filter.since !== undefined && event.created_at < filter.since) return false
  for (const [key, values] of Object.entries(filter)) {
    if (!key.startsWith('#') || !Array.isArray(values)) continue
    const tag = key.slice(1)
    if (!event.tags.some(([name, value]) => name === tag && values.includes(value))) return false
  }
  return true
}

export const startNostrRelay = async (): Promise<{ url: string, close: () => Promise<void> }> => {
  const recent: NostrEvent[] = []
  const subscriptions = new Map<WebSocket, Map<string, Filter[]>>()
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  wss.on('connection', (socket) => {
    const subs = new Map<string, Filter[]>()
    subscriptions.set(socket, subs)
    socket.on('error', () => socket.terminate())
    socket.on('close', () => subscriptions.delete(socket))
    socket.on('message', (raw) => {
      let message: unknown[]
      try {
        message = JSON.parse(String(raw))
      } catch {
        return
      }
      const [type, ...rest] = message
      if (type === 'EVENT') {
        const event = rest[0] as NostrEvent
        if (!isEphemeral(event)) {
          recent.push(event)
          if (recent.length > 2000) recent.shift()
        }
        socket.send(JSON.stringify(['OK', event.id, true, '']))
        for (const [client, clientSubs] of subscriptions) {
          for (const [subId, filters] of clientSubs) {
            if (filters.some((f) => matches(event, f))) client.send(JSON.stringify(['EVENT', subId, event]))
          }
        }
      } else if (type === 'REQ') {
        const [subId, ...filters] = rest as [string, ...Filter[]]
        subs.set(subId, filters)
        for (const event of recent) if (filters.some((f) => matches(event, f))) socket.send(JSON.stringify(['EVENT', subId, event]))
        socket.send(JSON.stringify(['EOSE', subId]))
      } else if (type === 'CLOSE') {
        subs.delete(rest[0] as string)
      }
    })
  })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const { port } = wss.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  }
}
