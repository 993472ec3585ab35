/**
 * The built package as an app sees it: `npm test` builds dist/ first, then these import it by
 * name (Node resolves a package's own name through its `exports` map) as ESM and as CommonJS,
 * and type-check an app against the emitted declarations.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const built = existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)))

describe.skipIf(!built)('the built package (run `npm run build` first; `npm test` does)', () => {
  it('works as ESM, with its testing and node entry points', async () => {
    const { stdout } = await run(process.execPath, [`${fixtures}consumer.mjs`])
    expect(JSON.parse(stdout)).toEqual({ text: 'esm', key: 'ty:d:', error: true, node: true })
  })

  it('works as CommonJS', async () => {
    const { stdout } = await run(process.execPath, [`${fixtures}consumer.cjs`])
    expect(JSON.parse(stdout)).toEqual({ text: 'cjs', node: true })
  })

  it('type-checks an app against the declarations', async () => {
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
    await expect(run(process.execPath, [tsc, '-p', `${fixtures}tsconfig.json`])).resolves.toBeDefined()
  })
})
