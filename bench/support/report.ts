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

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
