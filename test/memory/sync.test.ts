/** Sync protocol over the in-memory network (fast, deterministic; no WebRTC). */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { docChannelKey } from '../../src/index.js'
import { converged, nextEvent, on, until } from '../support/wait.js'
import { createMemoryMesh, fullMesh } from '../support/memory-peers.js'

const mainDocAction = docChannelKey('')

describe('sync over the memory network', () => {
  const mesh = createMemoryMesh()
  afterEach(async () => await mesh.reset())

  it('is synced alone right after joining, and connected', async () => {
    const { provider } = mesh.add()
    expect(provider.synced).toBe(false)
    const [synced] = await nextEvent<[boolean]>(provider, 'synced')
    expect(synced).toBe(true)
    expect(provider.status).toBe('connected')
    expect(provider.connected).toBe(true)
    expect(provider.peers).toEqual([])
  })

  it('emits status events that listeners attached after the constructor hear', async () => {
    const { provider } = mesh.add()
    const [event] = await nextEvent<[{ status: string, connected: boolean }]>(provider, 'status')
    expect(event).toEqual({ status: 'connected', connected: true })
  })

  it('syncs two peers both ways and reports each other as peers', async () => {
    const a = mesh.add()
    const b = mesh.add()
    a.doc.getText('t').insert(0, 'hello ')
    b.doc.getText('t').insert(0, 'world')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    await until('both synced with one peer', () => a.provider.synced && b.provider.synced && a.provider.peers.length === 1,
      [on(a.provider, 'synced'), on(b.provider, 'synced'), on(a.provider, 'peers')])
    expect(a.provider.peers).toEqual([b.peer.selfId])
    expect(b.provider.peers).toEqual([a.peer.selfId])
    expect(a.doc.getText('t').toString()).toMatch(/hello |world/)
    expect(a.doc.getText('t').length).toBe(11)
  })

  it('converges on concurrent edits to Y.Text, Y.Map and Y.Array', async () => {
    const peers = [mesh.add(), mesh.add(), mesh.add()]
    await Promise.all(peers.map(async ({ provider }) => await provider.whenSynced()))
    await fullMesh(peers)
    peers.forEach(({ doc }, i) => {
      doc.getText('text').insert(0, `peer${i};`)
      doc.getMap('map').set('shared', i)
      doc.getMap('map').set(`own${i}`, i)
      doc.getArray('array').push([i, i * 10])
    })
    // Y.Map's JSON key order is each replica's insertion order: compare entries sorted.
    const read = (doc: Y.Doc): unknown => ({
      t: doc.getText('text').toString(),
      m: Object.fromEntries(Object.entries(doc.getMap('map').toJSON()).sort(([k1], [k2]) => k1.localeCompare(k2))),
      a: doc.getArray('array').toJSON()
    })
    await converged(peers.map(({ doc }) => doc), read)
    const state = read(peers[0]!.doc) as { t: string, m: Record<string, number>, a: number[] }
    expect(state.t.length).toBe('peer0;'.length * 3)
    expect(Object.keys(state.m).sort()).toEqual(['own0', 'own1', 'own2', 'shared'])
    expect(state.a).toHaveLength(6)
  })

  it('gives a late joiner the whole document', async () => {
    const a = mesh.add()
    const b = mesh.add()
    for (let i = 0; i < 100; i++) a.doc.getArray('items').push([i])
    b.doc.getMap('meta').set('title', 'late')
    await converged([a.doc, b.doc], (d) => d.getArray('items').length + d.getMap('meta').size)
    const late = mesh.add()
    await converged([a.doc, late.doc], (d) => ({ items: d.getArray('items').toJSON(), meta: d.getMap('meta').toJSON() }))
    await late.provider.whenSynced()
    expect(late.doc.getArray('items').length).toBe(100)
    expect(late.doc.getMap('meta').get('title')).toBe('late')
  })

  it('sends a burst of 1,000 edits in one tick as one message per peer', async () => {
    const a = mesh.add()
    const b = mesh.add()
    const c = mesh.add()
    await fullMesh([a, b, c])
    await mesh.network.settle()
    const before = mesh.network.stats.byAction[mainDocAction]!.messages
    const text = a.doc.getText('t')
    for (let i = 0; i < 1000; i++) text.insert(text.length, 'x')
    await converged([a.doc, b.doc, c.doc], (d) => d.getText('t').length)
    await mesh.network.settle()
    expect(b.doc.getText('t').toString()).toBe('x'.repeat(1000))
    expect(mesh.network.stats.byAction[mainDocAction]!.messages - before).toBe(2)
  })

  it('never sends a received update back: one message per edit per receiver (N−1)', async () => {
    const peers = [mesh.add(), mesh.add(), mesh.add(), mesh.add()]
    await fullMesh(peers)
    await mesh.network.settle()
    const before = mesh.network.stats.byAction[mainDocAction]!.messages
    for (let i = 0; i < 10; i++) {
      peers[i % 4]!.doc.getText('t').insert(0, String(i))
      await converged(peers.map(({ doc }) => doc), (d) => d.getText('t').length)
    }
    await mesh.network.settle()
    expect(mesh.network.stats.byAction[mainDocAction]!.messages - before).toBe(10 * 3)
  })

  it('is not synced while a peer with the document has not answered, and synced once it has', async () => {
    const a = mesh.add()
    await a.provider.whenSynced()
    const transitions: boolean[] = []
    a.provider.on('synced', (synced: boolean) => transitions.push(synced))
    const b = mesh.add()
    await until('A synced with B', () => a.provider.synced && a.provider.peers.length === 1, [on(a.provider, 'synced'), on(a.provider, 'peers')])
    expect(transitions).toEqual([false, true])
    await b.provider.whenSynced()
  })

  it('merges edits made on both sides of disconnect() after connect()', async () => {
    const a = mesh.add()
    const b = mesh.add()
    a.doc.getText('t').insert(0, 'base')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    await a.provider.disconnect()
    expect(a.provider.status).toBe('disconnected')
    expect(a.provider.synced).toBe(false)
    await until('B sees A gone', () => b.provider.peers.length === 0, [on(b.provider, 'peers')])
    a.doc.getText('t').insert(4, ' from A')
    b.doc.getText('t').insert(0, 'B says: ')
    expect(a.doc.getText('t').toString()).not.toBe(b.doc.getText('t').toString())
    await a.provider.connect()
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    expect(a.doc.getText('t').toString()).toBe('B says: base from A')
  })

  it('reconnects when connect() follows a disconnect() made while still connecting', async () => {
    const a = mesh.add()
    const b = mesh.add()
    expect(a.provider.status).toBe('connecting')
    void a.provider.disconnect()
    expect(a.provider.status).toBe('disconnected')
    await a.provider.connect()
    expect(a.provider.status).toBe('connected')
    a.doc.getText('t').insert(0, 'after a quick toggle')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
  })

  it('survives a status listener that disconnects on connect', async () => {
    const a = mesh.add('room', { connect: false })
    a.provider.on('status', ({ status }: { status: string }) => { if (status === 'connected') void a.provider.disconnect() })
    await a.provider.connect()
    expect(a.provider.status).toBe('disconnected')
    expect(a.provider.room).toBeNull()
  })

  it('can be created again for the same document and room after destroy()', async () => {
    const a = mesh.add()
    const b = mesh.add()
    a.doc.getText('t').insert(0, 'one')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    await b.provider.destroy()
    const again = mesh.track(new (b.provider.constructor as typeof import('../../src/index.js').TrysteroProvider)(b.doc, 'room', { appId: 'trystero-yjs-test', joinRoom: b.peer.joinRoom }))
    a.doc.getText('t').insert(3, ' two')
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
    await again.whenSynced()
    expect(b.doc.getText('t').toString()).toBe('one two')
  })

  it('destroys itself when its document is destroyed', async () => {
    const a = mesh.add()
    await a.provider.whenSynced()
    const statuses: string[] = []
    a.provider.on('status', ({ status }: { status: string }) => statuses.push(status))
    a.doc.destroy()
    expect(statuses).toEqual(['disconnected'])
    expect(a.provider.connected).toBe(false)
  })

  it('counts traffic per peer (what A sent B is what B received from A) and maps peers to awareness clients', async () => {
    const a = mesh.add()
    const b = mesh.add()
    b.provider.awareness.setLocalStateField('user', 'Bob')
    a.doc.getText('t').insert(0, 'x'.repeat(500))
    await converged([a.doc, b.doc], (d) => d.getText('t').length)
    await until('A knows B\'s cursor', () => a.provider.awareness.getStates().has(b.doc.clientID), [on(a.provider.awareness, 'change')])
    await mesh.network.settle()
    const aToB = a.provider.trafficWith(b.peer.selfId)
    const bFromA = b.provider.trafficWith(a.peer.selfId)
    expect(aToB.bytesSent).toBeGreaterThan(500)
    expect(bFromA.bytesReceived).toBe(aToB.bytesSent)
    expect(bFromA.messagesReceived).toBe(aToB.messagesSent)
    expect(a.provider.traffic).toEqual(aToB)
    expect(a.provider.peerAwareness(b.peer.selfId)).toEqual([b.doc.clientID])
    expect(a.provider.peerAwareness('nobody')).toEqual([])
  })

  it('heals a lost update with resyncInterval', async () => {
    const a = mesh.add('room', { resyncInterval: 20 })
    const b = mesh.add('room', { resyncInterval: 20 })
    await until('synced pair', () => a.provider.synced && b.provider.synced && a.provider.peers.length === 1,
      [on(a.provider, 'synced'), on(b.provider, 'synced'), on(a.provider, 'peers')])
    await mesh.network.settle()
    mesh.network.setFaults({ loss: 1 })
    a.doc.getText('t').insert(0, 'lost at first')
    await mesh.network.settle()
    expect(b.doc.getText('t').toString()).toBe('')
    mesh.network.setFaults({ loss: 0 })
    await converged([a.doc, b.doc], (d) => d.getText('t').toString())
  })
})
