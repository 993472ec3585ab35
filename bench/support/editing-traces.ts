/**
 * Real editing traces (CC BY 4.0: Joseph Gentle's public editing-traces collection;
 * automerge-paper prepared by Martin Kleppmann), read from the folder `EDITING_TRACES_DIR` names
 * (default: `data/editing-traces` in the folder above the repository, where the project's
 * developers keep them). They are read in place, never copied into this repository; when they are
 * absent, callers get `null` and fall back to a generated document, and say so.
 */
import { existsSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'

const configured = process.env['EDITING_TRACES_DIR']
export const tracesDirectory = configured === undefined || configured === ''
  ? fileURLToPath(new URL('../../../shared/data/editing-traces/', import.meta.url))
  : `${configured.replace(/[\\/]+$/, '')}/`

export const traceCredit = 'editing traces: Joseph Gentle, editing-traces (CC BY 4.0); automerge-paper: Martin Kleppmann'

export interface SequentialTrace {
  endContent: string
  txns: Array<{ patches: Array<[number, number, string]> }>
}

/** A sequential trace as its file holds it, or `null` if the file is absent. */
export const readSequentialTrace = (name: string): SequentialTrace | null => {
  const path = `${tracesDirectory}${name}.json.gz`
  if (!existsSync(path)) return null
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as SequentialTrace
}

/** Replays a trace into `doc`'s `Y.Text('text')`, one transaction per trace transaction. */
export const replaySequentialTrace = (trace: SequentialTrace, doc: Y.Doc): void => {
  const text = doc.getText('text')
  for (const txn of trace.txns) {
    doc.transact(() => {
      for (const [position, deleted, inserted] of txn.patches) {
        if (deleted > 0) text.delete(position, deleted)
        if (inserted.length > 0) text.insert(position, inserted)
      }
    })
  }
}

/** A sequential trace replayed into a Y.Doc's `Y.Text('text')`, or `null` if the file is absent. */
export const loadSequentialTrace = (name: string): { doc: Y.Doc, source: string } | null => {
  const trace = readSequentialTrace(name)
  if (trace === null) return null
  const doc = new Y.Doc()
  replaySequentialTrace(trace, doc)
  if (doc.getText('text').toString() !== trace.endContent) throw new Error(`trace ${name}: replay does not reach its endContent`)
  return { doc, source: `trace ${name}` }
}

/**
 * A stand-in with a deletion history like a real document's: `chars` typed characters, with a
 * third of them deleted again at scattered places.
 */
export const generateEditedDocument = (chars: number, seed = 1): Y.Doc => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  let state = seed
  const random = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n
  }
  for (let i = 0; i < chars; i++) {
    text.insert(random(text.length + 1), String.fromCharCode(97 + random(26)))
    if (i % 3 === 2) text.delete(random(text.length), 1)
  }
  return doc
}

/** B4 (automerge-paper) if present, else a generated document with deletions. */
export const b4OrStandIn = (): { doc: Y.Doc, source: string } =>
  loadSequentialTrace('automerge-paper') ?? { doc: generateEditedDocument(150_000), source: 'generated stand-in (trace absent)' }
