/** Prints how long the first Y.applyUpdate of a file takes in this fresh process (cold, like a new peer's). */
import { readFileSync } from 'node:fs'
import * as Y from 'yjs'

const update = readFileSync(process.argv[2]!)
const doc = new Y.Doc()
const start = performance.now()
Y.applyUpdate(doc, update)
process.stdout.write(String(performance.now() - start))
