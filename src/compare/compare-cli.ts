/**
 * `npm run compare`: plays every built-in scenario and prints the tables.
 * `npm run compare -- --write-doc`: also refreshes the generated blocks of docs/lww-vs-ymap.md.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { builtInScenarios } from './built-in-scenarios.js'
import { fillGeneratedBlocks } from './lesson-doc.js'
import { notes, scenarioSection, summaryTable } from './report.js'
import { runScenario } from './run-scenario.js'

const results = []
for (const scenario of builtInScenarios()) results.push(await runScenario(scenario))

console.log('## LWW map vs Y.Map: every built-in scenario\n')
console.log(summaryTable(results))
for (const result of results) console.log(`\n${scenarioSection(result)}`)
console.log(`\n${notes.map((n) => `- ${n}`).join('\n')}`)

if (process.argv.includes('--write-doc')) {
  const path = fileURLToPath(new URL('../../docs/lww-vs-ymap.md', import.meta.url))
  writeFileSync(path, fillGeneratedBlocks(readFileSync(path, 'utf8'), results))
  console.log(`\nupdated ${path}`)
}
