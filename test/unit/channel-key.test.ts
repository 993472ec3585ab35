import { describe, expect, it } from 'vitest'
import { docChannelKey } from '../../src/index.js'
import { channelKey } from '../../src/channel-key.js'

describe('document channel key', () => {
  it('uses short safe names literally', () => {
    expect(docChannelKey('')).toBe('ty:d:')
    expect(docChannelKey('notes/chapter-1')).toBe('ty:d:notes/chapter-1')
  })

  it('hashes long or unsafe names into 32 bytes, the same on every peer (pinned)', () => {
    const guid = '1c948444-7c48-452f-8a90-0225cfcbd5e1'
    expect(docChannelKey(guid)).toBe(docChannelKey(guid))
    expect(docChannelKey('with space')).toMatch(/^ty:h:/)
    expect(docChannelKey('ünïcödé')).toMatch(/^ty:h:/)
    // base64url(SHA-256("d\0hello world")), first 27 characters
    expect(docChannelKey('hello world')).toBe('ty:h:36Ng2niSaqxGXiAEAntMvBdDFEG')
    for (const name of [guid, 'x'.repeat(1000), 'ünïcödé', 'a\u0000b']) expect(new TextEncoder().encode(docChannelKey(name)).byteLength).toBeLessThanOrEqual(32)
  })

  it('keeps kinds apart: a document and an LWW map of the same name are different channels', () => {
    expect(channelKey('lm', 'prefs')).toBe('ty:lm:prefs')
    expect(channelKey('lm', 'hello world')).not.toBe(docChannelKey('hello world'))
  })

  it('never lets a literal name collide with a hashed one', () => {
    const hashed = docChannelKey('hello world')
    expect(docChannelKey(hashed.slice('ty:d:'.length))).not.toBe(hashed)
  })
})
