/**
 * The wire scenario's reading of a capture: classic pcap files as `tcpdump -w` writes them on
 * Linux `lo` (Ethernet framing), UDP over IPv4 or IPv6, summed per time window. Only the first
 * bytes of each datagram are needed (snap length ≥ 63): WebRTC's payloads are encrypted anyway.
 */
import { readFileSync } from 'node:fs'

export interface Datagram {
  /** Capture time, ms since the epoch (the kernel's wall clock, as `Date.now()`). */
  time: number
  /** IP header + UDP header + payload: the bytes on the wire above the link layer. */
  ipBytes: number
  udpPayload: number
  /** First payload byte: what RFC 7983 demultiplexes on (STUN, DTLS, ...); -1 when absent. */
  firstByte: number
}

const ethernetHeader = 14
const linkTypeEthernet = 1

/** Every UDP datagram of a capture; other packets are skipped. */
export const readPcap = (file: string): Datagram[] => parsePcap(readFileSync(file), file)

export const parsePcap = (buffer: Buffer, name = 'capture'): Datagram[] => {
  if (buffer.length < 24) throw new Error(`${name}: too short for a pcap file (${buffer.length} bytes)`)
  const magic = buffer.readUInt32LE(0)
  const nanoseconds = magic === 0xa1b23c4d
  if (magic !== 0xa1b2c3d4 && !nanoseconds) throw new Error(`${name}: not a little-endian classic pcap file (magic ${magic.toString(16)})`)
  const linkType = buffer.readUInt32LE(20)
  if (linkType !== linkTypeEthernet) throw new Error(`${name}: link type ${linkType}, expected Ethernet (1) as tcpdump writes for Linux lo`)
  const datagrams: Datagram[] = []
  for (let offset = 24; offset + 16 <= buffer.length;) {
    const seconds = buffer.readUInt32LE(offset)
    const fraction = buffer.readUInt32LE(offset + 4)
    const included = buffer.readUInt32LE(offset + 8)
    const original = buffer.readUInt32LE(offset + 12)
    const frame = buffer.subarray(offset + 16, offset + 16 + included)
    offset += 16 + included
    const datagram = udpIn(frame, original)
    if (datagram !== null) datagrams.push({ time: seconds * 1000 + fraction / (nanoseconds ? 1e6 : 1e3), ...datagram })
  }
  return datagrams
}

const udpIn = (frame: Buffer, originalLength: number): Omit<Datagram, 'time'> | null => {
  if (frame.length < ethernetHeader + 1) return null
  const etherType = frame.readUInt16BE(12)
  let udp: number
  if (etherType === 0x0800) {
    if (frame.length < ethernetHeader + 20 || frame[ethernetHeader + 9] !== 17) return null
    udp = ethernetHeader + (frame[ethernetHeader]! & 0x0f) * 4
  } else if (etherType === 0x86dd) {
    // No extension headers on loopback WebRTC traffic: next header is UDP or it is not ours.
    if (frame.length < ethernetHeader + 40 || frame[ethernetHeader + 6] !== 17) return null
    udp = ethernetHeader + 40
  } else {
    return null
  }
  if (frame.length < udp + 8) return null
  return {
    ipBytes: originalLength - ethernetHeader,
    udpPayload: frame.readUInt16BE(udp + 4) - 8,
    firstByte: frame[udp + 8] ?? -1
  }
}

/**
 * The smallest DTLS datagram that can hold SCTP DATA: DTLS 1.2 record with AES-GCM (13-byte
 * header, 8-byte explicit nonce, 16-byte tag) + SCTP common header 12 + DATA chunk header 16 + one
 * byte padded to 4. Anything smaller is SCTP control alone; on these captures that is a SACK
 * without gap blocks (65 bytes).
 */
export const smallestDataDatagram = 37 + 12 + 16 + 4

export interface WindowTraffic {
  /** DTLS datagrams (RFC 7983: first byte 20–63): everything the data channels put on the wire. */
  datagrams: number
  /** Of those, too small to carry DATA: SCTP SACKs sent alone. */
  sackOnly: number
  ipBytes: number
  udpPayload: number
  /** STUN (first byte 0–3): ICE consent checks, paced by time, not by edits; not in the sums above. */
  stun: { datagrams: number, ipBytes: number }
  /** UDP that is neither (none expected). */
  other: { datagrams: number, ipBytes: number }
  /** DTLS datagrams by UDP payload size, for checking the classification. */
  sizes: Record<number, number>
}

export const emptyTraffic = (): WindowTraffic => ({ datagrams: 0, sackOnly: 0, ipBytes: 0, udpPayload: 0, stun: { datagrams: 0, ipBytes: 0 }, other: { datagrams: 0, ipBytes: 0 }, sizes: {} })

/** The datagrams captured from `start` to `end` (inclusive, ms since the epoch). */
export const trafficIn = (datagrams: Datagram[], start: number, end: number): WindowTraffic => {
  const traffic = emptyTraffic()
  for (const d of datagrams) {
    if (d.time < start || d.time > end) continue
    if (d.firstByte >= 20 && d.firstByte <= 63) {
      traffic.datagrams++
      traffic.ipBytes += d.ipBytes
      traffic.udpPayload += d.udpPayload
      if (d.udpPayload < smallestDataDatagram) traffic.sackOnly++
      traffic.sizes[d.udpPayload] = (traffic.sizes[d.udpPayload] ?? 0) + 1
    } else if (d.firstByte >= 0 && d.firstByte <= 3) {
      traffic.stun.datagrams++
      traffic.stun.ipBytes += d.ipBytes
    } else {
      traffic.other.datagrams++
      traffic.other.ipBytes += d.ipBytes
    }
  }
  return traffic
}

export const addTraffic = (a: WindowTraffic, b: WindowTraffic): WindowTraffic => {
  const sizes = { ...a.sizes }
  for (const [size, count] of Object.entries(b.sizes)) sizes[Number(size)] = (sizes[Number(size)] ?? 0) + count
  return {
    datagrams: a.datagrams + b.datagrams,
    sackOnly: a.sackOnly + b.sackOnly,
    ipBytes: a.ipBytes + b.ipBytes,
    udpPayload: a.udpPayload + b.udpPayload,
    stun: { datagrams: a.stun.datagrams + b.stun.datagrams, ipBytes: a.stun.ipBytes + b.stun.ipBytes },
    other: { datagrams: a.other.datagrams + b.other.datagrams, ipBytes: a.other.ipBytes + b.other.ipBytes },
    sizes
  }
}
