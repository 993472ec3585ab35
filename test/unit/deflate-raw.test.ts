import { describe, expect, it } from 'vitest'
import { compressionAvailable, deflateRaw, inflateRaw } from '../../src/compact/deflate-raw.js'

const pattern = (length: number): Uint8Array => {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 7)) % 251
  return bytes
}

describe('deflate-raw (compact sync codec)', () => {
  it('is available in Node 20', () => {
    expect(compressionAvailable()).toBe(true)
  })

  it('inflates what it deflated, for empty, small and multi-chunk inputs', async () => {
    for (const input of [new Uint8Array(0), new Uint8Array([1, 2, 3]), pattern(300_000)]) {
      const compressed = await deflateRaw(input)
      const inflated = await inflateRaw(compressed, input.byteLength)
      expect(inflated.ok && Buffer.from(inflated.bytes).equals(Buffer.from(input))).toBe(true)
    }
  })

  it('compresses a repetitive input', async () => {
    const input = new Uint8Array(100_000).fill(65)
    expect((await deflateRaw(input)).byteLength).toBeLessThan(1000)
  })

  it('stops a zip bomb at the announced size: 64 MiB of zeros announced as 1 MiB', async () => {
    const bomb = await deflateRaw(new Uint8Array(64 * 1024 * 1024))
    expect(bomb.byteLength).toBeLessThan(128 * 1024)
    const result = await inflateRaw(bomb, 1024 * 1024)
    expect(result.ok).toBe(false)
    expect(!result.ok && result.reason).toBe('over')
    // It stopped within a stream chunk past the limit, not at 64 MiB.
    expect(!result.ok && result.figure).toBeLessThan(2 * 1024 * 1024)
  })

  it('refuses an output shorter than announced, and bytes that are not deflate-raw', async () => {
    const compressed = await deflateRaw(pattern(1000))
    const short = await inflateRaw(compressed, 1001)
    expect(!short.ok && [short.reason, short.figure]).toEqual(['short', 1000])
    // Block type 3 is reserved: no deflate stream starts so.
    const invalid = await inflateRaw(new Uint8Array([0xff, 0xff, 0xff]), 10)
    expect(!invalid.ok && invalid.reason).toBe('corrupt')
    const truncated = await inflateRaw(compressed.subarray(0, compressed.byteLength >> 1), 1000)
    expect(truncated.ok).toBe(false)
  })
})
