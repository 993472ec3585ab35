/**
 * The DTLS certificate fingerprints of a WebRTC connection, read from its session descriptions:
 * what ties an admission proof to the connection it was made on (PROTOCOL.md §5.2). WebRTC checks
 * the far end's certificate against its fingerprint, so a peer cannot claim another's.
 */

/** The two fingerprints of `connection` (a Trystero room's `getPeers()` value), or `null`. */
export const connectionFingerprints = (connection: unknown): { local: string, remote: string } | null => {
  const local = fingerprintOf(descriptionSdp(connection, 'localDescription'))
  const remote = fingerprintOf(descriptionSdp(connection, 'remoteDescription'))
  return local === null || remote === null ? null : { local, remote }
}

const descriptionSdp = (connection: unknown, which: 'localDescription' | 'remoteDescription'): string | null => {
  if (typeof connection !== 'object' || connection === null) return null
  try {
    const sdp = (connection as Record<string, { sdp?: unknown } | null | undefined>)[which]?.sdp
    return typeof sdp === 'string' ? sdp : null
  } catch {
    // A closed native connection may throw on access.
    return null
  }
}

/** The first `a=fingerprint:` line, normalised (hash name lower case, hex upper case). */
const fingerprintOf = (sdp: string | null): string | null => {
  const match = sdp?.match(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m)
  return match === null || match === undefined ? null : `${match[1]!.toLowerCase()} ${match[2]!.toUpperCase()}`
}
