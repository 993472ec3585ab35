/**
 * docs/lww-vs-ymap.md is prose written by hand around tables that are not: each table sits
 * between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` and is replaced by the runner's
 * output (`npm run compare -- --write-doc`). A test fails if the doc holds anything else there.
 */
import { TrysteroYjsError } from '../errors.js'
import { notes, scenarioSection, summaryTable } from './report.js'
import type { ScenarioResult } from './run-scenario.js'

const blockPattern = /<!-- generated:([\w-]+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g

/** What goes in the block called `name`: `summary`, `notes`, or a scenario id. */
export const generatedBlock = (name: string, results: ScenarioResult[]): string => {
  if (name === 'summary') return summaryTable(results)
  if (name === 'notes') return notes.map((n) => `- ${n}`).join('\n')
  const result = results.find((r) => r.scenario.id === name)
  if (result === undefined) throw new TrysteroYjsError(`docs/lww-vs-ymap.md names an unknown generated block ${JSON.stringify(name)}`)
  return scenarioSection(result)
}

export const fillGeneratedBlocks = (doc: string, results: ScenarioResult[]): string =>
  doc.replace(blockPattern, (_, name: string) => `<!-- generated:${name} -->\n${generatedBlock(name, results)}\n<!-- /generated:${name} -->`)

/** The blocks as they are in the doc, by name. */
export const readGeneratedBlocks = (doc: string): Map<string, string> =>
  new Map([...doc.matchAll(blockPattern)].map((m) => [m[1]!, m[0]]))
