/**
 * What a WebRTC connection says of the bytes it received in all (every packet: the far end's
 * data, its SCTP acknowledgements, its ICE consent answers), from `getStats()`: the transport's
 * `bytesReceived`, else the selected candidate pair's. Browsers and node-datachannel's polyfill
 * both report it. `null` for an object without stats (the memory network's stand-in).
 */
export const connectionBytesReceived = async (connection: unknown): Promise<number | null> => {
  const getStats = (connection as { getStats?: () => Promise<Map<string, Record<string, unknown>>> } | null)?.getStats
  if (typeof getStats !== 'function') return null
  const report = await getStats.call(connection)
  let fromPair: number | null = null
  for (const stats of report.values()) {
    const bytes = stats['bytesReceived']
    if (typeof bytes !== 'number') continue
    if (stats['type'] === 'transport') return bytes
    if (stats['type'] === 'candidate-pair' && (stats['nominated'] === true || stats['selected'] === true)) fromPair = bytes
  }
  return fromPair
}
