/**
 * The keeper as users run it: `dist/keeper-cli.js` (the package's `trystero-yjs-keeper` bin) in
 * its own process, with `--log json`, its lines read as events. `npm test` builds dist/ first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const keeperCli = fileURLToPath(new URL('../../dist/keeper-cli.js', import.meta.url))
export const keeperBuilt = existsSync(keeperCli)

export interface KeeperLine {
  event: string
  room?: string
  peer?: string
  peers?: number
  [field: string]: unknown
}

export class KeeperProcess {
  /** Every JSON line printed so far, stdout and stderr, in order. */
  readonly lines: KeeperLine[] = []
  /** Everything printed that was not a JSON line (a crash, a warning of Node's). */
  readonly otherOutput: string[] = []
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly waiters = new Set<() => void>()
  /** Exited and its output drained. */
  private closed = false

  private constructor (readonly child: ChildProcess, readonly args: string[]) {
    // 'close', not 'exit': by then stdout and stderr are drained.
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => {
      this.closed = true
      resolve({ code, signal })
      this.wake()
    }))
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = ''
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString()
        const complete = buffered.split('\n')
        buffered = complete.pop()!
        for (const line of complete) this.take(line)
        this.wake()
      })
    }
  }

  /** Starts `trystero-yjs-keeper ARGS --log json`. */
  static start (args: string[]): KeeperProcess {
    const child = spawn(process.execPath, [keeperCli, ...args, '--log', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    return new KeeperProcess(child, args)
  }

  private take (line: string): void {
    if (line.trim() === '') return
    try {
      this.lines.push(JSON.parse(line) as KeeperLine)
    } catch {
      this.otherOutput.push(line)
    }
  }

  private wake (): void {
    for (const waiter of [...this.waiters]) waiter()
  }

  /** A wake-up source for `until` (test/support/wait.ts): every line the keeper prints. */
  readonly onLine = (wake: () => void): (() => void) => {
    this.waiters.add(wake)
    return () => this.waiters.delete(wake)
  }

  /** Lines of one event (and room, if given). */
  events (event: string, room?: string): KeeperLine[] {
    return this.lines.filter((line) => line.event === event && (room === undefined || line.room === room))
  }

  /**
   * Resolves with the first line (from `after` on) that matches; rejects if the process exits
   * first, or after `deadlineMs` (a bound for a failing test, not a measurement).
   */
  async waitFor (what: string, match: (line: KeeperLine) => boolean, { after = 0, deadlineMs = 30_000 } = {}): Promise<KeeperLine> {
    return await new Promise((resolve, reject) => {
      const describe = (): string => `${what}; keeper printed:\n  ${[...this.lines.map((l) => JSON.stringify(l)), ...this.otherOutput].slice(-12).join('\n  ')}`
      const finish = (error: Error | null, line?: KeeperLine): void => {
        clearTimeout(timer)
        this.waiters.delete(check)
        if (error !== null) reject(error)
        else resolve(line!)
      }
      const check = (): void => {
        const line = this.lines.slice(after).find(match)
        if (line !== undefined) finish(null, line)
        else if (this.closed) finish(new Error(`keeper exited while waiting for ${describe()}`))
      }
      const timer = setTimeout(() => finish(new Error(`timed out after ${deadlineMs} ms waiting for ${describe()}`)), deadlineMs)
      this.waiters.add(check)
      check()
    })
  }

  /** `keeping N rooms`: every room loaded (or reported) and joined. */
  async ready (): Promise<KeeperLine> {
    return await this.waitFor('ready', (line) => line.event === 'ready')
  }

  /** SIGTERM (a clean stop), or SIGKILL. Resolves once the process is gone. */
  async stop (signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
    if (!this.closed) this.child.kill(signal)
    return await this.exited
  }
}
