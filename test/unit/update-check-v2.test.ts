import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { checkUpdate, prepareUpdate, type UpdateCheck } from '../../src/sync/update-check.js'
import { column, craftUpdate, gcRunV2 } from '../support/craft-update.js'
import { fuzzClients, randomStructs } from '../support/random-structs.js'
import { richHistory } from '../support/rich-history.js'
import { seeded } from '../support/seeded.js'

/**
 * The check in format V2 (compact sync, PROTOCOL.md §3.7): the same checks as V1, read from V2's
 * columns, and V2's own hazard, struct counts that cost a few bytes.
 */

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)))

const facts = (check: UpdateCheck): unknown => check.ok
  ? { ranges: [...check.ranges], gains: [...check.gains], needs: [...check.needs], overlaps: check.overlaps, structs: check.structs, deleteRanges: check.deleteRanges, types: check.types, subdocs: check.subdocs }
  : 'rejected'


describe('checkUpdate in format V2', () => {
  it('reads a hand-written V2 update as Yjs does', () => {
    const update = gcRunV2(3, 2)
    const decoded = Y.decodeUpdateV2(update)
    expect(decoded.structs.map((s) => [s.id.client, s.id.clock, s.length])).toEqual([[5, 0, 2], [5, 2, 2], [5, 4, 2]])
    const check = checkUpdate(new Y.Doc(), update, { format: 'v2' })
    expect(check.ok && [...check.ranges]).toEqual([[5, { from: 0, to: 6 }]])
    expect(check.ok && check.structs).toBe(3)
  })

  it('refuses a struct count over its budget before reading a struct, and takes one within it', () => {
    // Yjs would build 2^30 GC structs out of these 20-odd bytes.
    const bomb = gcRunV2(2 ** 30, 1)
    expect(bomb.byteLength).toBeLessThan(30)
    const refused = checkUpdate(new Y.Doc(), bomb, { format: 'v2' })
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.cause).toMatch(/1073741824 structs of client 5 announced: over the 67108864 structs left/)
    expect(checkUpdate(new Y.Doc(), gcRunV2(1000, 1), { format: 'v2', maxStructs: 1000 }).ok).toBe(true)
    const over = checkUpdate(new Y.Doc(), gcRunV2(1001, 1), { format: 'v2', maxStructs: 1000 })
    expect(!over.ok && over.cause).toMatch(/1001 structs of client 5 announced: over the 1000/)
  })

  it('refuses reads past the end of a column, where lib0 would read zeros', () => {
    // The length column holds one value without a count: a second GC would read past it.
    const update = gcRunV2(1, 3)
    const bytes = [...update]
    // The struct count in the rest section is the third byte from the end: make it 2.
    bytes[bytes.length - 3] = 2
    const lengthsEnd = Uint8Array.from(bytes)
    expect(Y.decodeUpdateV2(lengthsEnd).structs).toHaveLength(2) // Yjs reads a GC of length 0
    const check = checkUpdate(new Y.Doc(), lengthsEnd, { format: 'v2' })
    expect(!check.ok && check.cause).toMatch(/the length column ends/)
  })

  it('refuses an embed or format value that V1 cannot carry (undefined, a bigint): Yjs takes it in V2, then no V1 step 2 or update of the document can be encoded', () => {
    const poisoned = (edit: (text: Y.Text) => void): Uint8Array => {
      const source = new Y.Doc()
      source.getText('t').insert(0, 'abc')
      edit(source.getText('t'))
      return Y.encodeStateAsUpdateV2(source)
    }
    const updates = {
      'format undefined': poisoned((t) => t.format(0, 1, { bold: undefined })),
      'format bigint': poisoned((t) => t.format(0, 1, { size: 1n as unknown as number })),
      'format nested bigint': poisoned((t) => t.format(0, 1, { size: { n: [1n] } as unknown as number })),
      'embed bigint': poisoned((t) => t.insertEmbed(0, { n: 2n } as unknown as object))
    }
    for (const [name, update] of Object.entries(updates)) {
      // What the check guards against: Yjs applies it, and the document then fails every V1 encoding.
      const victim = new Y.Doc()
      Y.applyUpdateV2(victim, update)
      expect(() => Y.encodeStateAsUpdate(victim), name).toThrow()
      const check = checkUpdate(new Y.Doc(), update, { format: 'v2' })
      expect(check.ok, name).toBe(false)
      expect(!check.ok && check.cause, name).toMatch(/V1 \(JSON\) cannot carry/)
    }
    // What JSON carries, undefined inside a value included (JSON drops or nulls it), is taken.
    const fine = poisoned((t) => { t.format(0, 1, { bold: null, x: { y: undefined, z: [undefined, 1.5, 'q'] } }); t.insertEmbed(0, { img: 'x' }) })
    expect(checkUpdate(new Y.Doc(), fine, { format: 'v2' }).ok).toBe(true)
  })

  it('refuses strings that split a surrogate pair of the string column: the receiver would keep a lone half, every peer it re-encodes for a U+FFFD', () => {
    const source = new Y.Doc()
    source.clientID = 5
    source.getText('t').insert(0, 'x😀')
    const v2 = Y.encodeStateAsUpdateV2(source)
    // The string column holds "tx😀" (root name, then the text), lengths 1 and 3: make them 1 and 2.
    const decoder = decoding.createDecoder(v2)
    const flag = decoding.readVarUint(decoder)
    const columns = Array.from({ length: 9 }, () => decoding.readVarUint8Array(decoder))
    const rest = decoding.readTailAsUint8Array(decoder)
    expect(decoding.readVarString(decoding.createDecoder(columns[5]!))).toBe('tx😀')
    columns[5] = column((e) => { encoding.writeVarString(e, 'tx😀'); encoding.writeVarInt(e, 1); encoding.writeVarInt(e, 2) })
    const split = column((e) => {
      encoding.writeVarUint(e, flag)
      for (const c of columns) encoding.writeVarUint8Array(e, c)
      encoding.writeUint8Array(e, rest)
    })
    // What it would do: a lone high surrogate here, U+FFFD wherever the document is encoded again.
    const victim = new Y.Doc()
    Y.applyUpdateV2(victim, split)
    expect(victim.getText('t').toString()).toBe('x\ud83d')
    const replica = new Y.Doc()
    Y.applyUpdateV2(replica, Y.encodeStateAsUpdateV2(victim))
    expect(replica.getText('t').toString()).toBe('x\ufffd')
    const check = checkUpdate(new Y.Doc(), split, { format: 'v2' })
    expect(check.ok).toBe(false)
    expect(!check.ok && check.cause).toMatch(/splits a surrogate pair/)
    expect(checkUpdate(new Y.Doc(), v2, { format: 'v2' }).ok).toBe(true)
  })

  it('agrees with the V1 check on structurally random updates, and accepts nothing Y.applyUpdateV2 throws on', () => {
    const random = seeded(13)
    const { pick, blocks: randomBlocks } = randomStructs(random, (pick) => [
      () => ({ string: pick(['', 'a', 'bc', 'déf', '😀x']) }),
      () => ({ deleted: random(3) }),
      () => ({ type: random(7), ...([3, 5].includes(random(7)) ? { key: 'p' } : {}) }),
      () => ({ any: random(2) === 1 ? [1] : [1, 'x', { y: [2] }] }),
      () => ({ binary: new Uint8Array([1, 2]) }),
      () => ({ json: ['1', 'undefined'] })
    ], { minSkip: 1 })
    const base = (() => {
      const a = new Y.Doc()
      a.clientID = 1
      a.getText('t').insert(0, 'abcdef')
      a.getMap('m').set('in', new Y.Map())
      const b = new Y.Doc()
      b.clientID = 2
      Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
      b.getText('t').insert(3, 'ZZ')
      b.getText('t').delete(0, 2)
      Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
      return Y.encodeStateAsUpdate(a)
    })()
    let compared = 0
    let accepted = 0
    for (let i = 0; i < 2000; i++) {
      const blocks = randomBlocks()
      const crafted = craftUpdate({ clients: blocks, deletes: random(2) === 1 ? [{ client: pick(fuzzClients), ranges: [[random(12), 1 + random(5)]] }] : [] })
      // Yjs's own converter writes the V2 form (and the V1 form of what it wrote), when it can read it.
      let v2: Uint8Array
      let v1: Uint8Array
      try {
        v2 = Y.convertUpdateFormatV1ToV2(crafted)
        v1 = Y.convertUpdateFormatV2ToV1(v2)
      } catch {
        continue
      }
      const doc = new Y.Doc()
      doc.clientID = 99
      Y.applyUpdate(doc, base)
      compared++
      expect(facts(checkUpdate(doc, v2, { format: 'v2' }))).toEqual(facts(checkUpdate(doc, v1)))
      const prepared = prepareUpdate(doc, v2, { format: 'v2' })
      if (!prepared.ok) continue
      accepted++
      doc.clientID = 98
      expect(() => Y.applyUpdateV2(doc, prepared.update)).not.toThrow()
      expect(() => Y.encodeStateAsUpdate(doc)).not.toThrow()
    }
    expect(compared).toBeGreaterThan(1000)
    expect(accepted).toBeGreaterThan(300)
  })

  it('accepts nothing Y.applyUpdateV2 throws on among random corruptions of legitimate V2 updates', () => {
    const { updates, base } = richHistory('v2', 'hello wörld 😀')
    const random = seeded(17)
    let accepted = 0
    let refused = 0
    for (let i = 0; i < 3000; i++) {
      const bytes = [...updates[random(updates.length)]!]
      for (let m = 0, n = 1 + random(3); m < n; m++) {
        const p = random(bytes.length)
        const kind = random(4)
        if (kind === 0) bytes[p] = random(256)
        else if (kind === 1) bytes.splice(p, 1)
        else if (kind === 2) bytes.splice(p, 0, random(256))
        else bytes[p] = [0, 1, 10, 64, 127, 128, 255][random(7)]!
      }
      const update = Uint8Array.from(bytes)
      const doc = new Y.Doc()
      if (random(2) === 1) Y.applyUpdateV2(doc, base)
      // A corrupted count may announce many structs: keep the walk short.
      const prepared = prepareUpdate(doc, update, { format: 'v2', maxStructs: 10_000 })
      if (!prepared.ok) {
        refused++
        continue
      }
      accepted++
      expect(() => Y.applyUpdateV2(doc, prepared.update)).not.toThrow()
      expect(() => Y.encodeStateAsUpdate(doc)).not.toThrow()
      expect(() => Y.encodeStateAsUpdateV2(doc)).not.toThrow()
    }
    expect(accepted).toBeGreaterThan(100)
    expect(refused).toBeGreaterThan(1000)
  })

  it('accepts nothing Yjs throws on, applying or encoding in V1 or V2, among corruptions of single columns of legitimate V2 updates', () => {
    // Byte corruptions of the whole update mostly break the column lengths; these keep them, so
    // that the values inside a column (a format value, a string length, a run count) are what varies.
    const { updates, base } = richHistory('v2', 'hello wörld 😀')
    const random = seeded(3)
    const split = (update: Uint8Array): number[][] => {
      const decoder = decoding.createDecoder(update)
      const parts = [[decoding.readVarUint(decoder)]]
      for (let i = 0; i < 9; i++) parts.push([...decoding.readVarUint8Array(decoder)])
      parts.push([...decoding.readTailAsUint8Array(decoder)])
      return parts
    }
    const join = (parts: number[][]): Uint8Array => column((e) => {
      encoding.writeVarUint(e, parts[0]![0]!)
      for (let i = 1; i <= 9; i++) encoding.writeVarUint8Array(e, Uint8Array.from(parts[i]!))
      encoding.writeUint8Array(e, Uint8Array.from(parts[10]!))
    })
    let accepted = 0
    for (let i = 0; i < 3000; i++) {
      const parts = split(updates[random(updates.length)]!)
      for (let m = 0, n = 1 + random(3); m < n; m++) {
        const part = parts[1 + random(10)]!
        const p = random(part.length + 1)
        const kind = random(4)
        if (kind === 0 || part.length === 0) part.splice(p, 0, random(256))
        else if (kind === 1) part.splice(Math.min(p, part.length - 1), 1)
        else if (kind === 2) part[Math.min(p, part.length - 1)] = random(256)
        // Varint edges, and lib0 `any` tags (127 undefined, 122 bigint, 126 null)
        else part[Math.min(p, part.length - 1)] = [0, 1, 0x7f, 0x80, 0x41, 0xff, 0x7a, 0x7e][random(8)]!
      }
      const doc = new Y.Doc()
      if (random(2) === 1) Y.applyUpdateV2(doc, base)
      const prepared = prepareUpdate(doc, join(parts), { format: 'v2', maxStructs: 10_000 })
      if (!prepared.ok) continue
      accepted++
      expect(() => Y.applyUpdateV2(doc, prepared.update)).not.toThrow()
      expect(() => Y.encodeStateAsUpdate(doc)).not.toThrow()
      expect(() => Y.encodeStateAsUpdateV2(doc)).not.toThrow()
    }
    expect(accepted).toBeGreaterThan(200)
  })

  it('accepts the B4 editing trace\'s document in V2, with the facts of its V1 form', (context) => {
    const trace = resolve(repoRoot, '..', 'shared', 'data', 'editing-traces', 'automerge-paper.json.gz')
    if (!existsSync(trace)) {
      context.skip('editing trace automerge-paper.json.gz absent (../shared/data/editing-traces/)')
      return
    }
    return import('../../bench/support/editing-traces.js').then(({ loadSequentialTrace }) => {
      const doc = loadSequentialTrace('automerge-paper')!.doc
      const v2 = Y.encodeStateAsUpdateV2(doc)
      const check = checkUpdate(new Y.Doc(), v2, { format: 'v2' })
      expect(check.ok).toBe(true)
      expect(facts(check)).toEqual(facts(checkUpdate(new Y.Doc(), Y.encodeStateAsUpdate(doc))))
    })
  })
})

