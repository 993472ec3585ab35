import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { UpdateOutbox } from '../../src/provider/update-outbox.js'

const remote = Symbol('provider')

/** Whether Yjs will encode each transaction for `update` listeners: read just before it decides. */
const encodedFor = (doc: Y.Doc): Array<[unknown, boolean]> => {
  const seen: Array<[unknown, boolean]> = []
  doc.on('afterTransactionCleanup', (transaction: Y.Transaction) => {
    seen.push([transaction.origin, (doc as unknown as { _observers: Map<string, unknown> })._observers.has('update')])
  })
  return seen
}

const flushed = async (): Promise<void> => await new Promise((resolve) => queueMicrotask(resolve))

describe('UpdateOutbox', () => {
  it('sends local edits, and does not make Yjs encode the peer updates it applies', async () => {
    const doc = new Y.Doc()
    const sent: Uint8Array[] = []
    const outbox = new UpdateOutbox(doc, remote, (update) => sent.push(update))
    outbox.setListening(true)
    const encoded = encodedFor(doc)
    const peer = new Y.Doc()
    peer.getText('t').insert(0, 'from a peer')
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer), remote)
    doc.getText('t').insert(0, 'mine ')
    await flushed()
    expect(encoded).toEqual([[remote, false], [null, true]])
    expect(sent).toHaveLength(1)
    const replica = new Y.Doc()
    Y.applyUpdate(replica, Y.encodeStateAsUpdate(peer))
    Y.applyUpdate(replica, sent[0]!)
    expect(replica.getText('t').toString()).toBe('mine from a peer')
  })

  it('still sends an edit an observer makes while a peer update is applied', async () => {
    const doc = new Y.Doc()
    const sent: Uint8Array[] = []
    const outbox = new UpdateOutbox(doc, remote, (update) => sent.push(update))
    outbox.setListening(true)
    const text = doc.getText('t')
    text.observe((event) => {
      if (event.transaction.origin === remote) doc.getMap('m').set('seen', text.length)
    })
    const peer = new Y.Doc()
    peer.getText('t').insert(0, 'hello')
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(peer), remote)
    await flushed()
    expect(sent).toHaveLength(1)
    const replica = new Y.Doc()
    Y.applyUpdate(replica, sent[0]!)
    expect(replica.getMap('m').get('seen')).toBe(5)
  })

  it('stops listening when told, and leaves other listeners to Yjs', async () => {
    const doc = new Y.Doc()
    const sent: Uint8Array[] = []
    const outbox = new UpdateOutbox(doc, remote, (update) => sent.push(update))
    outbox.setListening(true)
    outbox.setListening(false)
    const appSaw: unknown[] = []
    doc.on('update', (_update: Uint8Array, origin: unknown) => appSaw.push(origin))
    Y.applyUpdate(doc, Y.encodeStateAsUpdate((() => { const d = new Y.Doc(); d.getText('t').insert(0, 'x'); return d })()), remote)
    doc.getText('t').insert(0, 'y')
    await flushed()
    expect(sent).toEqual([])
    expect(appSaw).toEqual([remote, null])
  })
})
