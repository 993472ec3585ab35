/** Payload bytes and messages both ways (Trystero adds 103 bytes of framing per message). */
export interface Traffic {
  /** Messages sent (one per peer it went to). */
  messagesSent: number
  /** Payload bytes sent, per peer it went to. */
  bytesSent: number
  /** Messages received. */
  messagesReceived: number
  /** Payload bytes received. */
  bytesReceived: number
}

export const noTraffic = (): Traffic => ({ messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 })

/**
 * Traffic per peer. Entries are kept after a peer leaves, so that totals never shrink. At most
 * `maxPeers` are listed one by one (the peer first heard of longest ago goes first, into the
 * total), so that a room with endless churn cannot grow the ledger without bound.
 */
export class TrafficLedger {
  private readonly byPeer = new Map<string, Traffic>()
  /** Counters of peers dropped from the per-peer list, still part of the total. */
  private readonly retired = noTraffic()

  constructor (private readonly maxPeers = 1024) {}

  sent (peerId: string, bytes: number): void {
    const traffic = this.entry(peerId)
    traffic.messagesSent++
    traffic.bytesSent += bytes
  }

  received (peerId: string, bytes: number): void {
    const traffic = this.entry(peerId)
    traffic.messagesReceived++
    traffic.bytesReceived += bytes
  }

  /** A copy of one peer's counters (zeros for a peer never heard of). */
  with (peerId: string): Traffic {
    return { ...(this.byPeer.get(peerId) ?? noTraffic()) }
  }

  /** Every peer's counters added up, including peers the ledger no longer lists one by one. */
  total (): Traffic {
    const total = { ...this.retired }
    for (const t of this.byPeer.values()) addTo(total, t)
    return total
  }

  private entry (peerId: string): Traffic {
    let traffic = this.byPeer.get(peerId)
    if (traffic === undefined) {
      if (this.byPeer.size >= this.maxPeers) {
        const [oldest, counters] = this.byPeer.entries().next().value as [string, Traffic]
        this.byPeer.delete(oldest)
        addTo(this.retired, counters)
      }
      traffic = noTraffic()
      this.byPeer.set(peerId, traffic)
    }
    return traffic
  }
}

const addTo = (total: Traffic, t: Traffic): void => {
  total.messagesSent += t.messagesSent
  total.bytesSent += t.bytesSent
  total.messagesReceived += t.messagesReceived
  total.bytesReceived += t.bytesReceived
}
