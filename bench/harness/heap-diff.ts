/**
 * What a process kept between two V8 heap snapshots of it: the objects of the later snapshot
 * whose ids the earlier one did not have (V8 keeps an object's id across snapshots of one
 * process), grouped by constructor, with one shortest path from the GC roots to an object of
 * each group — the holder to look at. A developer's tool for the cycles scenario
 * (`BENCH_CYCLES_SNAPSHOTS=/tmp/snapshots npm run bench -- cycles` writes the snapshots):
 *
 *   npx tsx bench/harness/heap-diff.ts before.heapsnapshot after.heapsnapshot [groups=25] [paths=12] [pattern]
 *
 * With a pattern (a regular expression), paths are shown for the groups whose label matches it,
 * three objects of each.
 */
import { readFileSync } from 'node:fs'

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[]], edge_fields: string[], edge_types: [string[]] } }
  nodes: number[]
  edges: number[]
  strings: string[]
}

class Snapshot {
  readonly nodeCount: number
  private readonly nf: number
  private readonly ef: number
  private readonly firstEdge: Uint32Array
  private readonly nodeTypes: string[]
  private readonly edgeTypes: string[]

  constructor (private readonly raw: RawSnapshot) {
    const { meta } = raw.snapshot
    this.nf = meta.node_fields.length
    this.ef = meta.edge_fields.length
    this.nodeTypes = meta.node_types[0]
    this.edgeTypes = meta.edge_types[0]
    this.nodeCount = raw.nodes.length / this.nf
    this.firstEdge = new Uint32Array(this.nodeCount + 1)
    const edgeCountField = meta.node_fields.indexOf('edge_count')
    for (let i = 0; i < this.nodeCount; i++) this.firstEdge[i + 1] = this.firstEdge[i]! + raw.nodes[i * this.nf + edgeCountField]! * this.ef
  }

  type (i: number): string { return this.nodeTypes[this.raw.nodes[i * this.nf]!]! }
  name (i: number): string { return this.raw.strings[this.raw.nodes[i * this.nf + 1]!]! }
  id (i: number): number { return this.raw.nodes[i * this.nf + 2]! }
  selfSize (i: number): number { return this.raw.nodes[i * this.nf + 3]! }

  /** `object Foo`, `closure bar`, `string`, `array (internal)`… */
  label (i: number): string {
    const type = this.type(i)
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number') return type
    return `${type} ${this.name(i).slice(0, 80)}`
  }

  * edges (i: number): Generator<{ type: string, name: string, to: number }> {
    for (let e = this.firstEdge[i]!; e < this.firstEdge[i + 1]!; e += this.ef) {
      const type = this.edgeTypes[this.raw.edges[e]!]!
      const nameOrIndex = this.raw.edges[e + 1]!
      const name = type === 'element' || type === 'hidden' ? `[${nameOrIndex}]` : this.raw.strings[nameOrIndex]!
      yield { type, name, to: this.raw.edges[e + 2]! / this.nf }
    }
  }

  /** Shortest strong paths from the root (node 0): each node's parent and the edge's name. */
  shortestPaths (): { parent: Int32Array, via: string[] } {
    const parent = new Int32Array(this.nodeCount).fill(-1)
    const via: string[] = new Array(this.nodeCount)
    parent[0] = 0
    let frontier = [0]
    while (frontier.length > 0) {
      const next: number[] = []
      for (const i of frontier) {
        for (const edge of this.edges(i)) {
          if (edge.type === 'weak' || edge.type === 'shortcut' || parent[edge.to] !== -1) continue
          parent[edge.to] = i
          via[edge.to] = edge.name
          next.push(edge.to)
        }
      }
      frontier = next
    }
    return { parent, via }
  }
}

const load = (path: string): Snapshot => new Snapshot(JSON.parse(readFileSync(path, 'utf8')) as RawSnapshot)

const [beforePath, afterPath, groupsArg, pathsArg, pattern] = process.argv.slice(2)
if (beforePath === undefined || afterPath === undefined) {
  console.error('usage: heap-diff.ts before.heapsnapshot after.heapsnapshot [groups] [paths]')
  process.exit(2)
}
const before = load(beforePath)
const beforeIds = new Set<number>()
for (let i = 0; i < before.nodeCount; i++) beforeIds.add(before.id(i))
const after = load(afterPath)

const groups = new Map<string, { count: number, bytes: number, samples: number[] }>()
let newCount = 0
let newBytes = 0
for (let i = 0; i < after.nodeCount; i++) {
  if (beforeIds.has(after.id(i))) continue
  const type = after.type(i)
  if (type === 'synthetic') continue
  newCount++
  newBytes += after.selfSize(i)
  const key = after.label(i)
  const group = groups.get(key) ?? { count: 0, bytes: 0, samples: [] }
  // The largest three of the group: where the bytes are.
  group.samples.push(i)
  group.samples.sort((a, b) => after.selfSize(b) - after.selfSize(a))
  group.samples.length = Math.min(group.samples.length, 3)
  group.count++
  group.bytes += after.selfSize(i)
  groups.set(key, group)
}
const top = [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(groupsArg ?? 25))
console.log(`objects in the later snapshot only: ${newCount.toLocaleString('en-US')}, ${(newBytes / 1024).toFixed(1)} KB self size`)
console.log('\n| objects | self KB | what |\n|---:|---:|---|')
for (const [label, { count, bytes }] of top) console.log(`| ${count} | ${(bytes / 1024).toFixed(1)} | ${label.replaceAll('|', '\\|')} |`)

const { parent, via } = after.shortestPaths()
console.log('\nA shortest path from the GC roots to one object of each group:')
const shown = pattern === undefined
  ? top.slice(0, Number(pathsArg ?? 12)).map(([label, { samples }]) => [label, samples.slice(0, 1)] as const)
  : [...groups].filter(([label]) => new RegExp(pattern).test(label)).map(([label, { samples }]) => [label, samples] as const)
for (const [label, samples] of shown) {
  for (const sample of samples) {
    const steps: string[] = []
    let i = sample
    if (parent[i] === -1) {
      console.log(`\n${label}: reachable through weak edges only`)
      continue
    }
    while (i !== 0 && steps.length < 40) {
      steps.push(`-[${via[i]}]-> ${after.label(i)}`)
      i = parent[i]!
    }
    console.log(`\n${label} (${after.selfSize(sample).toLocaleString('en-US')} B):\n  ${steps.reverse().join('\n  ')}`)
  }
}
