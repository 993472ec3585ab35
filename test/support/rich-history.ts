/**
 * A few updates of a document with every kind of content Yjs has (text with formats and embeds,
 * nested maps, arrays with binary and nested types, XML, a subdocument, deletions), and the state
 * before the last ones: what the update checks are fuzzed against, in V1 or V2.
 */
import * as Y from 'yjs'

export const richHistory = (format: 'v1' | 'v2', text = 'hello world'): { updates: Uint8Array[], base: Uint8Array } => {
  const encode = format === 'v1' ? Y.encodeStateAsUpdate : Y.encodeStateAsUpdateV2
  const a = new Y.Doc()
  a.clientID = 11
  const t = a.getText('t')
  t.insert(0, text)
  t.format(0, 5, { bold: true })
  t.insertEmbed(3, { img: 'x' })
  const m = a.getMap('m')
  m.set('k', 1)
  const inner = new Y.Map()
  m.set('inner', inner)
  inner.set('x', [1, { y: 2 }])
  a.getArray('a').insert(0, [1, 'two', new Uint8Array([3]), Y.Array.from(['s'])])
  const el = new Y.XmlElement('p')
  a.getXmlFragment('x').insert(0, [el])
  el.setAttribute('class', 'c')
  el.insert(0, [new Y.XmlText('xt')])
  const base = encode(a)
  const b = new Y.Doc()
  b.clientID = 22
  if (format === 'v1') Y.applyUpdate(b, base)
  else Y.applyUpdateV2(b, base)
  const before = Y.encodeStateVector(b)
  b.getText('t').insert(2, 'BB')
  b.getText('t').delete(5, 3)
  b.getMap('m').set('k', 2)
  b.getArray('a').delete(0, 1)
  b.getMap('m').set('doc', new Y.Doc({ guid: 'sub' }))
  return { updates: [encode(b, before), encode(b), base], base }
}
