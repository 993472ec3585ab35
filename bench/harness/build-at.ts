/**
 * The provider as it was at a git commit, built from this repository's history so that a scenario
 * can run it beside the working tree's build in the same run: the hostile scenario's "before"
 * contender (the last commit before issue 10) and the ladder's, sync-phases' and shaped-link's
 * "today" contender (BENCH_BASELINE, default `main`).
 *
 * Each build lives in bench/.cache/<commit>-<dependencies>/ (gitignored), made once and reused by
 * later runs: the commit's tree comes from `git archive` (nothing to register in .git; deleting the
 * folder is enough), then it is built with its own `npm run build`. A marker written last tells a
 * finished build from an interrupted one, which is made again.
 *
 * The two uses differ in one thing, which is why the folder name says which it is:
 * - `own` dependencies: `npm ci` from the commit's own lock file (the npm registry only), so the
 *   build runs on the yjs, Trystero and node-datachannel it was written for; its peer processes
 *   resolve them from that tree (hostile-peer-process.ts).
 * - `shared` dependencies: no install; the build's imports resolve up the tree to this checkout's
 *   node_modules, so a peer process that makes its Y.Doc with this checkout's yjs hands it to a
 *   provider that uses the same yjs (peer-process.ts, through peer-runtime.ts's `loadOurs`).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const cacheRoot = join(repoRoot, 'bench', '.cache')

/** Where a build's dependencies come from (see the module comment). */
export type BuildDependencies = 'own' | 'shared'

export interface BuildAt {
  /** What was asked for: a git ref, or the environment variable that named a build. */
  ref: string
  /** The full commit id, or what the environment variable said. */
  commit: string
  /** Absolute path of the built `dist/`. */
  dist: string
  /** Its `dist/index.js`. */
  entry: string
  /** How it was obtained in this run. */
  source: 'cache' | 'built' | 'given'
}

const run = async (command: string, args: string[], cwd: string): Promise<string> =>
  (await execFileAsync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })).stdout

/** The build of `ref`, made now unless a finished one is in the cache. */
export const buildAt = async (ref: string, dependencies: BuildDependencies, log: (line: string) => void = console.log): Promise<BuildAt> => {
  const commit = (await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], repoRoot)).trim()
  const directory = join(cacheRoot, `${commit}-${dependencies}`)
  const dist = join(directory, 'dist')
  const entry = join(dist, 'index.js')
  const doneMarker = join(directory, '.bench-prepared')
  if (existsSync(doneMarker) && readFileSync(doneMarker, 'utf8').trim() === commit && existsSync(entry)) return { ref, commit, dist, entry, source: 'cache' }
  log(`bench: building the provider at ${ref} (${commit.slice(0, 7)}) in ${directory}: git archive, ${dependencies === 'own' ? 'npm ci, ' : ''}npm run build`)
  rmSync(directory, { recursive: true, force: true })
  mkdirSync(directory, { recursive: true })
  const archive = `${directory}.tar`
  await run('git', ['archive', '--format=tar', `--output=${archive}`, commit], repoRoot)
  try {
    await run('tar', ['-xf', archive, '-C', directory], repoRoot)
  } finally {
    rmSync(archive, { force: true })
  }
  // Without an install there is no node_modules/.bin for `npm run build` to put on PATH: the
  // shared build runs this checkout's tsup itself (the commit's tsup.config.ts, our tsup).
  if (dependencies === 'own') {
    await run('npm', ['ci', '--no-audit', '--no-fund'], directory)
    await run('npm', ['run', 'build'], directory)
  } else {
    await run(join(repoRoot, 'node_modules', '.bin', 'tsup'), [], directory)
  }
  if (!existsSync(entry)) throw new Error(`the build of ${ref} (${commit}) made no dist/index.js`)
  writeFileSync(doneMarker, `${commit}\n`)
  return { ref, commit, dist, entry, source: 'built' }
}

/** An existing build named by an environment variable: a `dist/` (with index.js) whose parent holds its node_modules. */
const givenBuild = (variable: string, given: string): BuildAt => {
  const dist = resolve(given)
  const entry = join(dist, 'index.js')
  if (!existsSync(entry)) throw new Error(`${variable}=${given}: no index.js there`)
  return { ref: variable, commit: `${variable} (${dist})`, dist, entry, source: 'given' }
}

/** The last commit before the work on issue 10: the hostile scenario's "before". */
export const beforeCommit = 'a60587c'

/** The hostile scenario's "before" contender, on its own dependencies; `BENCH_BEFORE_DIST` names an existing build instead. */
export const beforeBuild = async (log?: (line: string) => void): Promise<BuildAt> => {
  const given = process.env['BENCH_BEFORE_DIST']
  if (given !== undefined && given !== '') return givenBuild('BENCH_BEFORE_DIST', given)
  return await buildAt(beforeCommit, 'own', log)
}

/** "Today's" provider for the ladder, sync-phases and shaped-link: `BENCH_BASELINE` (a git ref, default `main`), on this checkout's dependencies. */
export const baselineBuild = async (log?: (line: string) => void): Promise<BuildAt> =>
  await buildAt(process.env['BENCH_BASELINE'] ?? 'main', 'shared', log)

/** `name version` of each package as installed in the tree around `dist` (its parent's node_modules). */
export const versionsIn = (dist: string, names: string[]): string =>
  names.map((name) => {
    try {
      return `${name} ${(JSON.parse(readFileSync(join(dist, '..', 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version}`
    } catch {
      return `${name} ?`
    }
  }).join(', ')
