/**
 * The documents of the size ladder, written once to a temporary directory as Yjs updates (V1)
 * that peer processes load: 100 KB, 250 KB, B4 (the automerge-paper trace, or a generated stand-in
 * of its size when the trace is absent), 2 MB, 10 MB, 50 MB of Y.Text state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { loadSequentialTrace, generateEditedDocument } from '../support/editing-traces.js'

export interface BenchDocument {
  name: string
  /** Yjs V1 state bytes. */
  stateBytes: number
  /** Characters in the Y.Text 'text'. */
  textLength: number
  file: string
  source: string
}

const pattern = 'The quick brown fox jumps over the lazy dog. '

/** A Y.Text of about `bytes` bytes of state, typed in 10,000-character chunks. */
const textOfSize = (bytes: number): Y.Doc => {
  const doc = new Y.Doc()
  const text = doc.getText('text')
  const chunk = pattern.repeat(Math.ceil(10_000 / pattern.length)).slice(0, 10_000)
  while (text.length < bytes - 64) text.insert(text.length, chunk.slice(0, Math.min(chunk.length, bytes - 64 - text.length)))
  return doc
}

export interface DocumentSet {
  documents: BenchDocument[]
  /** Removes the files. */
  dispose: () => void
}

export const ladderSizes = ['100 KB', '250 KB', 'B4', '2 MB', '10 MB', '50 MB'] as const
export type LadderSize = typeof ladderSizes[number]

export const writeDocuments = (names: readonly string[]): DocumentSet => {
  const directory = mkdtempSync(join(tmpdir(), 'trystero-yjs-bench-'))
  const documents = names.map((name): BenchDocument => {
    let doc: Y.Doc
    let source = 'generated'
    if (name === 'B4') {
      const trace = loadSequentialTrace('automerge-paper')
      // The stand-in has a deletion history too, and about B4's 311 KB of state.
      doc = trace?.doc ?? generateEditedDocument(150_000)
      source = trace?.source ?? 'generated stand-in (trace absent)'
    } else {
      doc = textOfSize(parseSize(name))
    }
    const update = Y.encodeStateAsUpdate(doc)
    const file = join(directory, `${name.replace(/\W+/g, '_')}.update`)
    writeFileSync(file, update)
    return { name, stateBytes: update.byteLength, textLength: doc.getText('text').length, file, source }
  })
  return { documents, dispose: () => rmSync(directory, { recursive: true, force: true }) }
}

const parseSize = (name: string): number => {
  const match = /^(\d+) (KB|MB)$/.exec(name)
  if (match === null) throw new Error(`unknown document size ${name}`)
  return Number(match[1]) * (match[2] === 'KB' ? 1000 : 1_000_000)
}
