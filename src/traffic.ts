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
