/**
 * The provider as it was before issue 10 (commit {@link beforeCommit}), built from this
 * repository's history for the hostile benchmark's "before" contender: exported with
 * `git archive` into bench/.cache/, installed with `npm ci` (its own lock file, the npm registry
 * only) and built with its own `npm run build`. Kept there for later runs. `BENCH_BEFORE_DIST`
 * names an existing build instead (a `dist/` whose parent has that tree's node_modules).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The last commit before the work on issue 10. */
export const beforeCommit = 'a60587c'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const cacheDirectory = join(repoRoot, 'bench', '.cache', `before-${beforeCommit}`)
/** Written last: a tree without it was interrupted and is rebuilt. */
const doneMarker = join(cacheDirectory, '.bench-prepared')

export interface BeforeBuild {
  /** Absolute path of the built `dist/`. */
  dist: string
  /** The full commit id, or what BENCH_BEFORE_DIST said. */
  commit: string
  /** How it was obtained in this run. */
  source: 'cache' | 'built' | 'BENCH_BEFORE_DIST'
}

const run = (command: string, args: string[], cwd: string): string =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 })

/** The before contender's build, prepared now if it is neither given nor cached. */
export const prepareBeforeBuild = (log: (line: string) => void = console.log): BeforeBuild => {
  const given = process.env['BENCH_BEFORE_DIST']
  if (given !== undefined && given !== '') {
    const dist = resolve(given)
    if (!existsSync(join(dist, 'index.js'))) throw new Error(`BENCH_BEFORE_DIST=${given}: no index.js there`)
    return { dist, commit: `BENCH_BEFORE_DIST (${dist})`, source: 'BENCH_BEFORE_DIST' }
  }
  const commit = run('git', ['rev-parse', `${beforeCommit}^{commit}`], repoRoot).trim()
  const dist = join(cacheDirectory, 'dist')
  if (existsSync(doneMarker) && readFileSync(doneMarker, 'utf8').trim() === commit) return { dist, commit, source: 'cache' }
  log(`hostile: preparing the before contender (${beforeCommit}) in ${cacheDirectory}: git archive, npm ci, npm run build`)
  rmSync(cacheDirectory, { recursive: true, force: true })
  mkdirSync(dirname(cacheDirectory), { recursive: true })
  mkdirSync(cacheDirectory)
  // An archive, not a worktree: nothing to register in .git, and deleting the cache is enough.
  const archive = join(dirname(cacheDirectory), `before-${beforeCommit}.tar`)
  run('git', ['archive', '--format=tar', `--output=${archive}`, commit], repoRoot)
  try {
    run('tar', ['-xf', archive, '-C', cacheDirectory], repoRoot)
  } finally {
    rmSync(archive, { force: true })
  }
  run('npm', ['ci', '--no-audit', '--no-fund'], cacheDirectory)
  run('npm', ['run', 'build'], cacheDirectory)
  if (!existsSync(join(dist, 'index.js'))) throw new Error(`the build of ${beforeCommit} made no dist/index.js`)
  writeFileSync(doneMarker, `${commit}\n`)
  return { dist, commit, source: 'built' }
}

/** `name version` of each package as installed in the tree around `dist` (its parent's node_modules). */
export const versionsIn = (dist: string, names: string[]): string =>
  names.map((name) => {
    try {
      return `${name} ${(JSON.parse(readFileSync(join(dist, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version}`
    } catch {
      return `${name} ?`
    }
  }).join(', ')
