/**
 * Concurrent editing traces (Joseph Gentle's editing-traces collection, CC BY 4.0): two people
 * typing at once, each transaction naming the earlier ones its author had seen (`parents`).
 * They are read in place from the folder beside the repository, or from EDITING_TRACES_DIR;
 * callers skip, saying so, when a trace is absent.
 *
 * `ConcurrentReplay` turns each transaction into the Yjs update its author would have produced:
 * every agent keeps a *view* document holding exactly the transactions it had seen, the patch is
 * applied there (its positions refer to that state), and the update it makes is what the agent's
 * real, networked document must apply — once that document holds the view's history.
 */
import { existsSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Y from 'yjs'

export interface ConcurrentTrace {
  endContent: string
  numAgents: number
  txns: Array<{ parents: number[], agent: number, patches: Array<[number, number, string]> }>
}

const tracesDirectory = process.env['EDITING_TRACES_DIR'] ??
  resolve(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared', 'data', 'editing-traces')

/** The trace, or `null` (with the path looked at) when it is absent. */
export const loadConcurrentTrace = (name: string): { trace: ConcurrentTrace | null, path: string } => {
  const path = resolve(tracesDirectory, `${name}.json.gz`)
  if (!existsSync(path)) return { trace: null, path }
  return { trace: JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as ConcurrentTrace, path }
}

/** The Yjs client id of an agent's edits (view documents write under it). */
export const agentClient = (agent: number): number => agent + 1

export interface ReplayStep {
  agent: number
  update: Uint8Array
  /**
   * Before applying `update`, the agent's document must hold every other agent's edits up to
   * these clocks (its author had seen them).
   */
  needs: Map<number, number>
}

export class ConcurrentReplay {
  private readonly views: Array<{ doc: Y.Doc, seen: Uint8Array }>
  private readonly updates: Uint8Array[] = []
  /** Per transaction, the clock its author's client reached with it. */
  private readonly endClocks: number[] = []

  constructor (readonly trace: ConcurrentTrace, readonly textName = 't') {
    this.views = Array.from({ length: trace.numAgents }, (_, agent) => {
      const doc = new Y.Doc()
      doc.clientID = agentClient(agent)
      return { doc, seen: new Uint8Array(trace.txns.length) }
    })
  }

  /** Transaction `index` (in order: every transaction comes after its parents). */
  step (index: number): ReplayStep {
    const txn = this.trace.txns[index]!
    const view = this.views[txn.agent]!
    // What the author had seen and its view lacks: the parents' history not yet applied there.
    const missing: number[] = []
    const stack = [...txn.parents]
    while (stack.length > 0) {
      const parent = stack.pop()!
      if (view.seen[parent] === 1) continue
      view.seen[parent] = 1
      missing.push(parent)
      stack.push(...this.trace.txns[parent]!.parents)
    }
    missing.sort((a, b) => a - b)
    const needs = new Map<number, number>()
    for (const parent of missing) {
      Y.applyUpdate(view.doc, this.updates[parent]!)
      const client = agentClient(this.trace.txns[parent]!.agent)
      needs.set(client, Math.max(needs.get(client) ?? 0, this.endClocks[parent]!))
    }
    let update: Uint8Array | null = null
    const capture = (produced: Uint8Array): void => { update = produced }
    view.doc.on('update', capture)
    view.doc.transact(() => {
      const text = view.doc.getText(this.textName)
      for (const [position, deleted, inserted] of txn.patches) {
        if (deleted > 0) text.delete(position, deleted)
        if (inserted.length > 0) text.insert(position, inserted)
      }
    })
    view.doc.off('update', capture)
    view.seen[index] = 1
    this.updates[index] = update ?? new Uint8Array([0, 0])
    this.endClocks[index] = Y.getState(view.doc.store, agentClient(txn.agent))
    needs.delete(agentClient(txn.agent))
    return { agent: txn.agent, update: this.updates[index], needs }
  }

  destroy (): void {
    for (const view of this.views) view.doc.destroy()
  }
}
