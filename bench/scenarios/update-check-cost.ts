/**
 * What checking a peer's update costs (src/sync/update-check.ts), against what the provider did
 * before (`Y.decodeUpdate` to validate) and against applying it (`Y.applyUpdate`), in format V1
 * and V2 (compact sync, PROTOCOL.md §3.7: checked as V2, or converted to V1 and checked as V1), on the B4
 * document (the automerge-paper trace, or a generated stand-in), a 100 KB text, and a rich-text
 * document of 2,000 paragraphs (shared types: the check's second walk runs). Standalone:
 *
 *   npx tsx bench/scenarios/update-check-cost.ts [--runs=5]
 *
 * Cold: the first call in a fresh process (a peer joining: nothing compiled yet), median of runs.
 * Warm: median of 20 calls after 10, in one process.
 */
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as Y from 'yjs'
import { checkUpdate } from '../../src/sync/update-check.js'
import { writeDocuments } from '../harness/documents.js'
import { median, toMarkdown, type Cell } from '../support/report.js'

type Operation = 'decode' | 'check' | 'apply' | 'check+apply' | 'V2 check' | 'V2 apply' | 'V2 check+apply' | 'V2 → V1, check+apply'

const checked = (doc: Y.Doc, update: Uint8Array, format: 'v1' | 'v2' = 'v1'): void => {
  const result = checkUpdate(doc, update, { format })
  if (!result.ok) throw new Error(`check rejected the document: ${result.cause}`)
}

/** Each operation gets a fresh empty document, made before the clock starts, and the update in both formats. */
const operations: Record<Operation, (doc: Y.Doc, v1: Uint8Array, v2: Uint8Array) => void> = {
  decode: (_doc, update) => { Y.decodeUpdate(update) },
  check: (doc, update) => { checked(doc, update) },
  apply: (doc, update) => { Y.applyUpdate(doc, update) },
  'check+apply': (doc, update) => {
    checked(doc, update)
    Y.applyUpdate(doc, update)
  },
  'V2 check': (doc, _v1, v2) => { checked(doc, v2, 'v2') },
  'V2 apply': (doc, _v1, v2) => { Y.applyUpdateV2(doc, v2) },
  'V2 check+apply': (doc, _v1, v2) => {
    checked(doc, v2, 'v2')
    Y.applyUpdateV2(doc, v2)
  },
  'V2 → V1, check+apply': (doc, _v1, v2) => {
    const v1 = Y.convertUpdateFormatV2ToV1(v2)
    checked(doc, v1)
    Y.applyUpdate(doc, v1)
  }
}

const timed = (operation: Operation, v1: Uint8Array, v2: Uint8Array, doc = new Y.Doc()): number => {
  const start = performance.now()
  operations[operation](doc, v1, v2)
  return performance.now() - start
}

const child = process.argv.indexOf('--child')
if (child !== -1) {
  const operation = process.argv[child + 1] as Operation
  const v1 = readFileSync(process.argv[child + 2]!)
  // Converted outside the clock (with Yjs's converter, which warms nothing the operations use
  // but the lib0 decoders).
  process.stdout.write(String(timed(operation, v1, operation.startsWith('V2') ? Y.convertUpdateFormatV1ToV2(v1) : v1)))
  process.exit(0)
}

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 5)
const run = promisify(execFile)
const self = fileURLToPath(import.meta.url)

const cold = async (operation: Operation, file: string): Promise<number> => {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', self, '--child', operation, file])
    times.push(Number(stdout))
  }
  return median(times)
}

const warm = (operation: Operation, update: Uint8Array, doc?: () => Y.Doc): number => {
  const times: number[] = []
  const v2 = Y.convertUpdateFormatV1ToV2(update)
  for (let i = 0; i < 30; i++) {
    const ms = timed(operation, update, v2, doc?.())
    if (i >= 10) times.push(ms)
  }
  return median(times)
}

/** A rich-text document: 2,000 paragraphs (Y.XmlElement + Y.XmlText), some formatted. */
const richText = (): Y.Doc => {
  const doc = new Y.Doc()
  const fragment = doc.getXmlFragment('prosemirror')
  for (let i = 0; i < 2000; i++) {
    const paragraph = new Y.XmlElement('paragraph')
    const text = new Y.XmlText()
    paragraph.insert(0, [text])
    fragment.insert(fragment.length, [paragraph])
    text.insert(0, `Paragraph ${i}: the quick brown fox jumps over the lazy dog.`)
    if (i % 3 === 0) text.format(4, 5, { bold: true })
  }
  return doc
}

const coldOperations: Operation[] = ['decode', 'check', 'apply', 'check+apply', 'V2 check', 'V2 apply', 'V2 check+apply', 'V2 → V1, check+apply']
const warmOperations: Operation[] = ['decode', 'check', 'apply', 'V2 check', 'V2 apply']

const set = writeDocuments(['100 KB', 'B4'])
try {
  const rich = join(set.documents[0]!.file, '..', 'rich-text.update')
  writeFileSync(rich, Y.encodeStateAsUpdate(richText()))
  const documents = [...set.documents.map((d) => ({ name: d.name === 'B4' ? `B4 (${d.source})` : d.name, file: d.file })), { name: 'rich text, 2,000 paragraphs', file: rich }]
  const rows: Cell[][] = []
  for (const { name, file } of documents) {
    const update = readFileSync(file)
    const row: Cell[] = [name, update.byteLength, Y.convertUpdateFormatV1ToV2(update).byteLength, Y.decodeUpdate(update).structs.length]
    for (const operation of coldOperations) row.push(await cold(operation, file))
    for (const operation of warmOperations) row.push(warm(operation, update))
    // A step 2 or update the document already has (a resync): the check still reads every byte.
    const full = new Y.Doc()
    Y.applyUpdate(full, update)
    row.push(warm('check', update, () => full))
    rows.push(row)
  }
  console.log(toMarkdown({
    title: `Checking an update vs decoding and applying it (ms, Node ${process.version}, yjs ${(await import('yjs/package.json', { with: { type: 'json' } })).default.version})`,
    columns: ['document', 'V1 bytes', 'V2 bytes', 'structs', ...coldOperations.map((o) => `cold ${o}`), ...warmOperations.map((o) => `warm ${o}`), 'warm check, doc already has it'],
    rows,
    notes: [`cold: first call in a fresh process, median of ${runs}; warm: median of 20 after 10`, 'editing traces: Joseph Gentle, editing-traces (CC BY 4.0); automerge-paper: Martin Kleppmann']
  }))
} finally {
  set.dispose()
}
