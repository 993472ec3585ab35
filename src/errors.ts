/**
 * What an error or warning from trystero-yjs is about. Every field that is known is filled, so
 * that a log line is enough to tell which peer sent what.
 */
export interface TrysteroYjsErrorDetails {
  /** Trystero peer id of the remote peer involved, if any. */
  peerId?: string
  /** Message type, e.g. `sync-step2`, `awareness`, `hello`, `frame`, `unknown(7)`. */
  messageType?: string
  /** Byte length of the offending Trystero message. */
  byteLength?: number
  /** Document name (see PROTOCOL.md §3.1) of the provider that reports it. */
  docName?: string
  /** The limit a peer went over (a `ProviderLimits` name, e.g. `maxMessagesPerSecond`). */
  limit?: string
  /** That limit's value. */
  limitValue?: number
  /** What the peer reached. */
  figure?: number
  /** The underlying exception. */
  cause?: unknown
}

/**
 * The error type of every `error` and `warning` event and of every exception trystero-yjs throws.
 * Its message already names the peer, message type and byte length; the same facts are fields.
 */
export class TrysteroYjsError extends Error {
  /** What happened, without the facts the message adds (peer, message type, bytes, limit). */
  readonly summary: string
  /** Trystero peer id of the remote peer involved, if any. */
  readonly peerId: string | undefined
  /** Message type, e.g. `sync-step2`, `awareness`, `hello`, `frame`, `unknown(7)`. */
  readonly messageType: string | undefined
  /** Byte length of the offending Trystero message. */
  readonly byteLength: number | undefined
  /** Document name of the provider that reports it. */
  readonly docName: string | undefined
  /** The limit a peer went over (a `ProviderLimits` name). */
  readonly limit: string | undefined
  /** That limit's value. */
  readonly limitValue: number | undefined
  /** What the peer reached. */
  readonly figure: number | undefined

  constructor (summary: string, details: TrysteroYjsErrorDetails = {}) {
    super(describe(summary, details), details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'TrysteroYjsError'
    this.summary = summary
    this.peerId = details.peerId
    this.messageType = details.messageType
    this.byteLength = details.byteLength
    this.docName = details.docName
    this.limit = details.limit
    this.limitValue = details.limitValue
    this.figure = details.figure
  }
}

const describe = (summary: string, d: TrysteroYjsErrorDetails): string => {
  const facts: string[] = []
  if (d.docName !== undefined) facts.push(`doc ${JSON.stringify(d.docName)}`)
  if (d.peerId !== undefined) facts.push(`peer ${d.peerId}`)
  if (d.messageType !== undefined) facts.push(`message ${d.messageType}`)
  if (d.byteLength !== undefined) facts.push(`${d.byteLength} bytes`)
  if (d.limit !== undefined) facts.push(`limit ${d.limit} = ${String(d.limitValue)}`)
  if (d.figure !== undefined) facts.push(`reached ${d.figure}`)
  if (d.cause !== undefined) facts.push(`cause: ${d.cause instanceof Error ? d.cause.message : String(d.cause)}`)
  return facts.length === 0 ? `trystero-yjs: ${summary}` : `trystero-yjs: ${summary} (${facts.join(', ')})`
}
