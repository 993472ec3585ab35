/** Payload bytes and messages both ways (Trystero adds 103 bytes of framing per message). */
export interface Traffic {
  messagesSent: number
  bytesSent: number
  messagesReceived: number
  bytesReceived: number
}

export const noTraffic = (): Traffic => ({ messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 })
