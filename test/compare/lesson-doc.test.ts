/** docs/lww-vs-ymap.md holds exactly the tables the runner prints (never hand-edited numbers). */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { builtInScenarios, runScenario } from '../../src/compare/index.js'
import { fillGeneratedBlocks, readGeneratedBlocks } from '../../src/compare/lesson-doc.js'

const docPath = fileURLToPath(new URL('../../docs/lww-vs-ymap.md', import.meta.url))

describe('docs/lww-vs-ymap.md', () => {
  it('has a generated block for the summary, the notes and every built-in scenario, each as the runner prints it', async () => {
    const doc = readFileSync(docPath, 'utf8')
    const blocks = readGeneratedBlocks(doc)
    expect([...blocks.keys()].sort()).toEqual(['notes', 'summary', ...builtInScenarios().map((s) => s.id)].sort())
    const results = []
    for (const scenario of builtInScenarios()) results.push(await runScenario(scenario))
    const fresh = readGeneratedBlocks(fillGeneratedBlocks(doc, results))
    for (const [name, block] of blocks) expect(block, `block ${name} is stale: run npm run compare -- --write-doc`).toBe(fresh.get(name))
  })
})
