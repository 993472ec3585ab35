/** Prints how long a holder's first Y.encodeStateAsUpdate of a file takes in this fresh process, after loading it. */
import { readFileSync } from 'node:fs'
import * as Y from 'yjs'

const doc = new Y.Doc()
Y.applyUpdate(doc, readFileSync(process.argv[2]!))
const start = performance.now()
Y.encodeStateAsUpdate(doc)
process.stdout.write(String(performance.now() - start))
