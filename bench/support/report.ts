/** Markdown tables for the terminal and README, JSON for bench/results/. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type Cell = string | number | null
export interface Table {
  title: string
  columns: string[]
  rows: Cell[][]
  notes?: string[]
}

const format = (cell: Cell): string => cell === null ? '—' : typeof cell === 'number' ? formatNumber(cell) : cell

const formatNumber = (n: number): string => {
  if (Number.isInteger(n)) return n.toLocaleString('en-US')
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)
}

export const toMarkdown = (table: Table): string => [
  `### ${table.title}`,
  '',
  `| ${table.columns.join(' | ')} |`,
  `|${table.columns.map(() => '---').join('|')}|`,
  ...table.rows.map((row) => `| ${row.map(format).join(' | ')} |`),
  ...(table.notes?.length ? ['', ...table.notes.map((note) => `- ${note}`)] : [])
].join('\n')

export const writeResults = (name: string, data: unknown): string => {
  const directory = fileURLToPath(new URL('../results/', import.meta.url))
  mkdirSync(directory, { recursive: true })
  const path = `${directory}${name}.json`
  writeFileSync(path, JSON.stringify({ date: new Date().toISOString(), node: process.version, data }, null, 2) + '\n')
  return path
}

/** Table notes naming why runs failed, per contender, each distinct reason once. */
export const failureNotes = (rows: Array<{ contender: string, peers: number, failureReasons: string[] }>): string[] =>
  rows.filter((r) => r.failureReasons.length > 0).map((r) =>
    `failed runs, ${r.contender}, ${r.peers} peers: ${[...new Set(r.failureReasons)].join('; ')}`)

/** The message of a run's failure, for the report. */
export const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200)

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Nearest-rank percentile, `p` in 0..100. */
export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

export interface Spread { median: number, min: number, max: number }

export const spread = (values: number[]): Spread | null =>
  values.length === 0 ? null : { median: median(values), min: Math.min(...values), max: Math.max(...values) }

/** `12 (9–15)`: median, and min–max when they differ. */
export const formatSpread = (s: Spread | null, digits = 0): string => {
  if (s === null) return '—'
  const f = (n: number): string => n.toFixed(digits)
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

/** ours / theirs, or a word when one side has no number. */
export const ratio = (ours: number | null | undefined, theirs: number | null | undefined): string => {
  if (ours == null || theirs == null) return ours == null ? 'ours failed' : 'theirs failed'
  if (theirs === 0) return ours === 0 ? '1' : '∞'
  return (ours / theirs).toFixed(ours / theirs >= 10 ? 0 : 2)
}
