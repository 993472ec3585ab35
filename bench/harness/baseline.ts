/**
 * The provider as it was at another git commit, built once into bench/.baseline/<commit>/dist, so
 * that a scenario can run "today's" provider beside the working tree's in the same run (issue 13:
 * compact sync must not make the initial sync slower than it was). The commit's sources come from
 * `git archive`; its build uses this checkout's tsup and node_modules (resolved up the tree), so
 * both builds share one yjs.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export interface BaselineBuild {
  /** The ref asked for, and the commit it named. */
  ref: string
  commit: string
  /** The built `dist/index.js`. */
  entry: string
}

export const baselineBuild = async (ref: string): Promise<BaselineBuild> => {
  const commit = (await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: repoRoot })).stdout.trim()
  const directory = `${repoRoot}bench/.baseline/${commit}/`
  const entry = `${directory}dist/index.js`
  if (!existsSync(entry)) {
    mkdirSync(directory, { recursive: true })
    await run('sh', ['-c', `git archive ${commit} src package.json tsconfig.json tsup.config.ts | tar -x -C '${directory}'`], { cwd: repoRoot })
    await run(`${repoRoot}node_modules/.bin/tsup`, [], { cwd: directory, maxBuffer: 16 * 1024 * 1024 })
  }
  return { ref, commit, entry }
}
