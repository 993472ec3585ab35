/** A WebTorrent tracker (bittorrent-tracker's server, WebSocket only) on 127.0.0.1 for tests. */
import Server from 'bittorrent-tracker/server'
import type { AddressInfo } from 'node:net'

export const startTorrentTracker = async (): Promise<{ url: string, close: () => Promise<void> }> => {
  // 10 s is the shortest re-announce Trystero honours (notes: min(max(interval, 10 s), 120 s)).
  const server = new Server({ udp: false, http: false, ws: true, stats: false, interval: 10_000 })
  server.on('error', () => {})
  server.on('warning', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.http.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
