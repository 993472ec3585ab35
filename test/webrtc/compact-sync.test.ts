/**
 * Compact sync (PROTOCOL.md §3.7) over real WebRTC (node-datachannel on loopback, MQTT signaling
 * on 127.0.0.1): a real editing trace's document goes compact between two new peers, a later new
 * peer is answered from the holder's snapshot with what changed since and has all of it when it
 * reports synced, and a room that mixes a new peer with one speaking only version 1's messages
 * syncs both ways.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { TrysteroProvider, type TrysteroProviderOptions } from '../../src/index.js'
import { converged, on, until } from '../support/wait.js'
import { useWebRtcFixture } from '../support/webrtc-fixture.js'

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const trace = resolve(repoRoot, '..', 'shared', 'data', 'editing-traces', 'automerge-paper.json.gz')

/** A document with a real editing history (B4), or text of varied words of about its size when the trace is absent. */
const documentState = async (): Promise<{ update: Uint8Array, source: string }> => {
  if (existsSync(trace)) {
    const { loadSequentialTrace } = await import('../../bench/support/editing-traces.js')
    return { update: Y.encodeStateAsUpdate(loadSequentialTrace('automerge-paper')!.doc), source: 'automerge-paper' }
  }
  const doc = new Y.Doc()
  const words = ['sync', 'peer', 'document', 'state', 'vector', 'update', 'room', 'compact']
  let text = ''
  for (let i = 0; text.length < 100_000; i++) text += `${words[(i * 7919) % words.length]!} `
  doc.getText('text').insert(0, text)
  return { update: Y.encodeStateAsUpdate(doc), source: 'generated' }
}

describe('compact sync over real WebRTC', () => {
  const fixture = useWebRtcFixture('mqtt')
  let room = ''

  const join = async (state: Uint8Array | null, options: TrysteroProviderOptions = {}) => {
    const peer = await fixture.peer()
    const doc = new Y.Doc()
    if (state !== null) Y.applyUpdate(doc, state)
    const provider = fixture.provider(new TrysteroProvider(doc, room, { ...peer.config, joinRoom: peer.joinRoom, ...options }))
    return { peer, doc, provider }
  }

  it('sends a real document to a fresh peer compact: a fraction of its V1 bytes, the same document', async () => {
    room = fixture.roomId('compact')
    const { update, source } = await documentState()
    const holder = await join(update)
    await holder.provider.whenSynced()
    const fresh = await join(null)
    await until('the fresh peer has the document', () => fresh.doc.getText('text').length === holder.doc.getText('text').length,
      [on(fresh.doc, 'afterTransaction')], 45_000)
    expect(Y.encodeStateAsUpdate(fresh.doc)).toEqual(Y.encodeStateAsUpdate(holder.doc))
    const received = fresh.provider.trafficWith(holder.peer.selfId).bytesReceived
    // B4: 311 KB of V1, about 70 KB compact (V2 + deflate-raw); generated text compresses further.
    expect(received, `${source}: ${received} bytes for ${update.byteLength} of V1`).toBeLessThan(update.byteLength / 3)
  }, 60_000)

  it('answers a later fresh peer from the holder\'s snapshot and what changed since: at its synced, every edit and deletion is in', async () => {
    room = fixture.roomId('compact')
    const { update } = await documentState()
    const holder = await join(update)
    await holder.provider.whenSynced()
    const first = await join(null)
    await until('the first fresh peer is synced with the holder', () => first.provider.synced && first.provider.peers.length === 1,
      [on(first.provider, 'synced'), on(first.provider, 'peers')], 45_000)
    const text = holder.doc.getText('text')
    text.insert(7, 'typed after the first peer joined ')
    text.delete(Math.floor(text.length / 2), 25)
    await converged([holder.doc, first.doc], (d) => d.getText('text').toString(), 45_000)
    // The first peer goes, so that the next one's synced waits for the holder's answer alone.
    await first.provider.destroy()
    const next = await join(null)
    const atSynced = await new Promise<string>((resolve) => {
      const onSynced = (synced: boolean): void => {
        if (!synced || next.provider.peers.length === 0) return
        next.provider.off('synced', onSynced)
        resolve(next.doc.getText('text').toString())
      }
      next.provider.on('synced', onSynced)
    })
    expect(atSynced === text.toString(), `${atSynced.length} characters at synced, ${text.length} at the holder`).toBe(true)
    expect(Y.encodeStateAsUpdate(next.doc)).toEqual(Y.encodeStateAsUpdate(holder.doc))
    expect(next.provider.trafficWith(holder.peer.selfId).bytesReceived).toBeLessThan(update.byteLength / 3)
  }, 60_000)

  it('syncs a room mixing a peer with compactSync: false and two compact peers, both ways, and a paste after', async () => {
    room = fixture.roomId('compact')
    const { update } = await documentState()
    const holder = await join(update)
    const old = await join(null, { compactSync: false })
    const fresh = await join(null)
    old.doc.getText('notes').insert(0, 'written by the peer without compact sync')
    const live = [holder, old, fresh]
    await converged(live.map((p) => p.doc), (d) => `${d.getText('text').length}|${d.getText('notes').toString()}`, 45_000)
    // The old peer got the document as V1: all of its bytes.
    expect(old.provider.trafficWith(holder.peer.selfId).bytesReceived).toBeGreaterThan(update.byteLength)
    expect(fresh.provider.trafficWith(holder.peer.selfId).bytesReceived).toBeLessThan(update.byteLength / 3)
    // A paste (a big update): compact to the compact peer, V1 to the old one.
    const paste = 'pasted paragraph; '.repeat(2000)
    fresh.doc.getText('text').insert(0, paste)
    await converged(live.map((p) => p.doc), (d) => d.getText('text').toString(), 45_000)
    expect(old.doc.getText('text').toString().startsWith(paste)).toBe(true)
  }, 60_000)
})
