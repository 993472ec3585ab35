/**
 * A peer process's timeline (opt-in, `PeerConfig.timeline`): when each data-channel message was
 * sent or received and what it was — read from Trystero's framing (room frame, action header)
 * and, on our document channel, from the first bytes of our frame — when an action handler ran,
 * and when the document's transactions started and ended. Absolute ms, comparable across the
 * processes of one machine. For finding where the time of an initial sync goes (issue 13 item 5).
 */
export type TimelineKind = 'open' | 'send' | 'recv' | 'handler-start' | 'handler-end' | 'tx-start' | 'tx-integrated' | 'tx-end' | 'tx-cleanup-end'

export interface TimelineEvent {
  at: number
  kind: TimelineKind
  /** Trystero action name (`ty:room`, `ty:d:…`, `@_hsdata`, …) or a description. */
  what?: string
  bytes?: number
  /** Last chunk of a Trystero message (send/recv). */
  last?: boolean
  /** On a document channel's first chunk: `step1`, `step2`, `update`, `awareness` (a compact step 2 or update counts as one). */
  message?: string
}

const textDecoder = new TextDecoder()
const docMessageNames: Record<string, string> = { '0,0': 'step1', '0,1': 'step2', '0,2': 'update', '2,1': 'step2', '2,2': 'update' }

/**
 * Reads chunks on Trystero data channels (shared-peer.mjs room frame, action-wire.mjs header).
 * One per direction: it remembers which messages (action, nonce) have started, to tell a
 * message's first chunk, whose payload starts with our message type, from the rest.
 */
export class ChunkReader {
  private readonly started = new Set<string>()

  describe (data: unknown): Pick<TimelineEvent, 'what' | 'bytes' | 'last' | 'message'> {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : null
    if (bytes === null) return { what: typeof data, bytes: typeof data === 'string' ? data.length : 0 }
    if (bytes[0] !== 1 || bytes.byteLength < 3) return { what: bytes[0] === 2 ? 'presence' : 'other', bytes: bytes.byteLength }
    const header = 3 + ((bytes[1]! << 8) | bytes[2]!)
    const name = textDecoder.decode(bytes.subarray(header, header + 32)).replaceAll('\0', '')
    const nonce = `${name}:${bytes[header + 32]}:${bytes[header + 33]}`
    const last = ((bytes[header + 34] ?? 0) & 1) === 1
    const first = !this.started.has(nonce)
    if (last) this.started.delete(nonce)
    else this.started.add(nonce)
    const payload = header + 36
    const message = first && (name.startsWith('ty:d:') || name.startsWith('ty:h:'))
      ? bytes[payload] === 1 ? 'awareness' : docMessageNames[`${bytes[payload]},${bytes[payload + 1]}`]
      : undefined
    return { what: name, bytes: bytes.byteLength, last, ...(message === undefined ? {} : { message }) }
  }
}
