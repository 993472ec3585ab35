/**
 * DEFLATE without header (RFC 1951) through the platform's `CompressionStream('deflate-raw')` and
 * `DecompressionStream('deflate-raw')` (browsers, Node ≥ 18, Web Workers): compact sync's codec
 * (PROTOCOL.md §3.7). Both are asynchronous.
 *
 * Decompression is bounded: it stops as soon as the output passes what the sender announced, so
 * a zip bomb (1 KB that inflates to 1 GB) costs what was inflated up to the limit, never more.
 */

/** Whether this platform has both streams with the `deflate-raw` format. */
export const compressionAvailable = (): boolean => {
  try {
    // Constructors throw on an unknown format (older platforms know only gzip and deflate).
    void new CompressionStream('deflate-raw')
    void new DecompressionStream('deflate-raw')
    return true
  } catch {
    return false
  }
}

export const deflateRaw = async (bytes: Uint8Array): Promise<Uint8Array> => {
  const { bytes: compressed } = await collect(through(new CompressionStream('deflate-raw'), bytes), Infinity)
  return compressed
}

export type Inflated =
  | { ok: true, bytes: Uint8Array }
  /** `over`: the output passed `expectedBytes` (stopped there); `short`: it ended before; `corrupt`: not deflate-raw. */
  | { ok: false, reason: 'over' | 'short' | 'corrupt', /** Bytes inflated when it stopped. */ figure: number, cause?: unknown }

/** Inflates `bytes`, which must inflate to exactly `expectedBytes`. Never rejects. */
export const inflateRaw = async (bytes: Uint8Array, expectedBytes: number): Promise<Inflated> => {
  let stream: ReadableStream<Uint8Array>
  try {
    stream = through(new DecompressionStream('deflate-raw'), bytes)
  } catch (cause) {
    return { ok: false, reason: 'corrupt', figure: 0, cause }
  }
  try {
    const result = await collect(stream, expectedBytes)
    if (result.over) return { ok: false, reason: 'over', figure: result.total }
    if (result.total !== expectedBytes) return { ok: false, reason: 'short', figure: result.total }
    return { ok: true, bytes: result.bytes }
  } catch (cause) {
    return { ok: false, reason: 'corrupt', figure: 0, cause }
  }
}

let warming: Promise<void> | null = null

/**
 * The first stream of a process costs 20–50 ms (the streams' code is loaded and compiled; measured
 * in Node 20), the next ones 1–5 ms: a provider runs one small round trip when it is created, with
 * an output of several stream chunks, so that the first real one, on a peer's step 2, is warm.
 * Once per process; never rejects.
 */
export const warmUpCompression = async (): Promise<void> => {
  warming ??= (async () => {
    try {
      const sample = new Uint8Array(64 * 1024)
      for (let i = 0; i < sample.length; i++) sample[i] = (i * 7) % 13
      await inflateRaw(await deflateRaw(sample), sample.byteLength)
    } catch {
      // Nothing to warm; the real calls will report their own failure.
    }
  })()
  await warming
}

/**
 * `bytes` written into a codec, its output to read. Written directly rather than piped from a
 * Blob's stream: faster in Node 20 (B4's 160 KB: deflate 4.5 vs 6 ms, inflate 1.6 vs 2.2 ms warm).
 * A reader that stops early (a bomb) makes the pending write and close reject: nobody waits on them.
 */
const through = (codec: CompressionStream | DecompressionStream, bytes: Uint8Array): ReadableStream<Uint8Array> => {
  const writer = codec.writable.getWriter()
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {})
  writer.close().catch(() => {})
  return codec.readable
}

/** Reads a stream to its end, or stops (cancelling it) once it passed `limit` bytes. */
const collect = async (stream: ReadableStream<Uint8Array>, limit: number): Promise<{ bytes: Uint8Array, total: number, over: boolean }> => {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => {})
      return { bytes: new Uint8Array(0), total, over: true }
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return { bytes: chunks[0]!, total, over: false }
  const bytes = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return { bytes, total, over: false }
}
