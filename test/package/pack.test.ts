/**
 * What `npm pack` puts in the tarball, the README's way to install the package before it is
 * published: the build, the docs it links to, and nothing of the repository's own machinery.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const built = existsSync(`${root}dist/index.js`)

describe.skipIf(!built)('npm pack (run `npm run build` first; `npm test` does)', () => {
  it('packs the build, the README and the docs it links to, and no sources, tests or demo', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root })
    const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>
    const paths = pack!.files.map((file) => file.path)
    expect(paths).toEqual(expect.arrayContaining([
      'package.json', 'README.md', 'PROTOCOL.md', 'docs/editors.md', 'docs/lww-vs-ymap.md',
      'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/node.js', 'dist/testing.js', 'dist/lww.js', 'dist/compare.js', 'dist/broker-cli.js'
    ]))
    expect(paths.filter((path) => /^(src|test|demo|bench|node_modules)\//.test(path))).toEqual([])
  })
})
