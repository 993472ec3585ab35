/** The coordinator's side of a benchmark peer: spawn it, send it commands, end it. */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Command, PeerConfig, Reply } from './protocol.js'

const peerScript = fileURLToPath(new URL('./peer-process.ts', import.meta.url))

export class PeerHandle {
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()
  private exited: Promise<number | null>
  private closing = false
  /** How the process ended if it ended before `close()` (with the error it printed): a contender's crash, for the report. */
  crashed: string | null = null
  private stderrTail = ''

  private constructor (private readonly child: ChildProcess, readonly config: PeerConfig) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    // A peer that dies mid-run fails that run; it must not take the coordinator down.
    child.on('error', () => {})
    child.on('message', (message: Reply | { ready: true }) => {
      if ('ready' in message) return
      const waiter = this.pending.get(message.id)
      if (waiter === undefined) return
      this.pending.delete(message.id)
      if (message.ok) waiter.resolve(message.result)
      else waiter.reject(new Error(`${config.provider} peer: ${message.error}`))
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk)
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000)
    })
    // 'close', not 'exit': by then stderr is drained, so the crash's message is in the tail.
    child.once('close', (code, signal) => {
      if (!this.closing) {
        const error = /^\w*Error\b.*$/m.exec(this.stderrTail)?.[0]
        this.crashed = `${signal ?? `exit code ${code}`}${error === undefined ? '' : `: ${error}`}`
      }
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${config.provider} peer exited (${code ?? signal})`))
      this.pending.clear()
    })
  }

  /** Starts a peer process and waits until it is ready for commands. */
  static async spawn (config: PeerConfig): Promise<PeerHandle> {
    const execArgv = ['--import', 'tsx', '--expose-gc']
    const env = { ...process.env, BENCH_PEER_CONFIG: JSON.stringify(config) }
    // In a network namespace: `ip netns exec` runs Node there; the IPC channel's descriptor survives the exec.
    const child = config.netns === undefined
      ? fork(peerScript, [], { execArgv, env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
      : spawn('ip', ['netns', 'exec', config.netns, process.execPath, ...execArgv, peerScript], { env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] })
    child.on('error', () => {})
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('peer process not ready within 30 s')), 30_000)
        child.once('message', () => { clearTimeout(timer); resolve() })
        child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`peer process exited before it was ready (${code})`)) })
      })
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    }
    return new PeerHandle(child, config)
  }

  /**
   * Sends a command; rejects if the peer has not answered within the command's own timeout plus
   * a margin (or 60 s): a wedged child must fail its run, not hang the benchmark.
   */
  async request<T> (command: Command): Promise<T> {
    if (!this.child.connected) throw new Error(`${this.config.provider} peer is gone (${this.crashed ?? 'closed'})`)
    const id = this.nextId++
    const limitMs = ('timeoutMs' in command ? command.timeoutMs : 50_000) + 10_000
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.config.provider} peer did not answer ${command.type} within ${limitMs} ms`))
      }, limitMs)
      const settle = <A>(f: (value: A) => void) => (value: A) => { clearTimeout(timer); f(value) }
      this.pending.set(id, { resolve: settle(resolve as (value: unknown) => void), reject: settle(reject) })
      this.child.send({ id, command }, (error) => {
        if (error === null || !this.pending.has(id)) return
        this.pending.delete(id)
        clearTimeout(timer)
        reject(error)
      })
    })
  }

  /** Leaves the room, then ends the process: killed if it has not exited 5 s after this call. */
  async close (): Promise<void> {
    this.closing = true
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await Promise.race([this.request({ type: 'leave' }).catch(() => {}), this.exited])
    if (this.child.connected) this.child.disconnect()
    await this.exited
    clearTimeout(timer)
  }
}
