/**
 * A peer in a child process, driven over IPC: for tests where the peer's process may die (that is
 * what they observe) or where its memory is read on its own. The script answers
 * `{id, command}` with `{id, ok, result | error}` and first sends `{ready: true}`.
 */
import { fork, type ChildProcess } from 'node:child_process'

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Everything it wrote to stderr. */
  stderr: string
}

export class ChildPeer {
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>()
  private stderrText = ''
  /** Resolves when the process has ended (and its stderr drained). */
  readonly exited: Promise<ChildExit>

  private constructor (private readonly child: ChildProcess) {
    child.stderr?.on('data', (chunk: Buffer) => { this.stderrText += chunk.toString() })
    child.on('message', (message: { id: number, ok: boolean, result?: unknown, error?: string } | { ready: true }) => {
      if ('ready' in message) return
      const waiter = this.pending.get(message.id)
      if (waiter === undefined) return
      this.pending.delete(message.id)
      if (message.ok) waiter.resolve(message.result)
      else waiter.reject(new Error(`child peer: ${message.error}`))
    })
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        for (const waiter of this.pending.values()) waiter.reject(new Error(`child peer exited (${code ?? signal}): ${this.stderrText.slice(-2000)}`))
        this.pending.clear()
        resolve({ code, signal, stderr: this.stderrText })
      })
    })
  }

  /** Starts `script` (TypeScript, through tsx) with `env` added, and waits for its `ready`. */
  static async spawn (script: string, env: Record<string, string>): Promise<ChildPeer> {
    const child = fork(script, [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc']
    })
    child.on('error', () => {})
    const peer = new ChildPeer(child)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child peer not ready within 30 s')), 30_000)
      child.once('message', () => { clearTimeout(timer); resolve() })
      void peer.exited.then((exit) => { clearTimeout(timer); reject(new Error(`child peer exited before it was ready: ${exit.stderr}`)) })
    }).catch((error: unknown) => { child.kill('SIGKILL'); throw error })
    return peer
  }

  get alive (): boolean { return this.child.exitCode === null && this.child.signalCode === null }

  /** Sends the process a signal: SIGSTOP and SIGCONT to pause it, SIGKILL to crash it. */
  signal (signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  async request<T = unknown> (type: string, args: Record<string, unknown> = {}, deadlineMs = 60_000): Promise<T> {
    if (!this.child.connected) throw new Error(`child peer is gone: ${this.stderrText.slice(-2000)}`)
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`child peer did not answer ${type} within ${deadlineMs} ms`))
      }, deadlineMs)
      this.pending.set(id, {
        resolve: (value) => { clearTimeout(timer); resolve(value as T) },
        reject: (error) => { clearTimeout(timer); reject(error) }
      })
      this.child.send({ id, command: { type, ...args } })
    })
  }

  /** Asks it to leave and exit; kills it if it has not exited 5 s later. */
  async close (): Promise<ChildExit> {
    if (this.alive) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
      await this.request('exit', {}, 5000).catch(() => {})
      void this.exited.then(() => clearTimeout(timer))
    }
    return await this.exited
  }
}

/** A command from the parent: its `type`, and whatever that type carries. */
export type ChildCommand = { type: string, [key: string]: any }

/**
 * The child's side of the protocol above: answers each command with what `handle` resolves to (or
 * its error), and on `exit`, or when the parent goes away, runs `shutdown` (after the answer to
 * `exit` is on its way). Then tells the parent it is ready.
 */
export const serveParent = (handle: (command: ChildCommand) => Promise<unknown>, shutdown: () => Promise<void>): void => {
  const reply = (message: object): void => { if (process.connected) process.send!(message) }
  process.on('message', ({ id, command }: { id: number, command: ChildCommand }) => {
    if (command.type === 'exit') {
      reply({ id, ok: true, result: null })
      setImmediate(() => { void shutdown() })
      return
    }
    handle(command).then(
      (result) => reply({ id, ok: true, result }),
      (error: unknown) => reply({ id, ok: false, error: error instanceof Error ? error.message : String(error) })
    )
  })
  process.on('disconnect', () => { void shutdown() })
  process.send!({ ready: true })
}
