/**
 * Waiting on events, never on the clock: every helper resolves on the event that makes its
 * condition true, and rejects with what it was waiting for if the deadline passes first.
 */
import type * as Y from 'yjs'

type Unsubscribe = () => void

/**
 * Resolves when `check()` is true, re-checking whenever one of the `subscribe` sources fires.
 * `deadlineMs` only bounds a failing test; it is not a measurement.
 */
export const until = async (
  what: string,
  check: () => boolean,
  subscribe: Array<(wake: () => void) => Unsubscribe>,
  deadlineMs = 20_000
): Promise<void> => {
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const unsubscribers: Unsubscribe[] = []
    const finish = (error?: Error): void => {
      clearTimeout(timer)
      for (const unsubscribe of unsubscribers) unsubscribe()
      if (error) reject(error)
      else resolve()
    }
    const wake = (): void => {
      try {
        if (check()) finish()
      } catch (error) {
        finish(error as Error)
      }
    }
    const timer = setTimeout(() => finish(new Error(`timed out after ${deadlineMs} ms waiting for ${what}`)), deadlineMs)
    for (const source of subscribe) unsubscribers.push(source(wake))
  })
}

interface Observable {
  on: (name: any, f: any) => unknown
  off: (name: any, f: any) => unknown
}

/** A wake-up source: an event of a lib0 observable (provider, awareness, Y.Doc). */
export const on = (target: Observable, name: string) => (wake: () => void): Unsubscribe => {
  const f = (): void => wake()
  target.on(name, f)
  return () => target.off(name, f)
}

/** Resolves with the arguments of the next `name` event that satisfies `predicate`. */
export const nextEvent = async <Args extends unknown[]>(
  target: Observable,
  name: string,
  predicate: (...args: Args) => boolean = () => true,
  deadlineMs = 20_000
): Promise<Args> => await new Promise((resolve, reject) => {
  const f = (...args: Args): void => {
    if (!predicate(...args)) return
    clearTimeout(timer)
    target.off(name, f)
    resolve(args)
  }
  const timer = setTimeout(() => {
    target.off(name, f)
    reject(new Error(`timed out after ${deadlineMs} ms waiting for event ${name}`))
  }, deadlineMs)
  target.on(name, f)
})

/** Resolves when `read` gives equal JSON for every document, re-checking on each update. */
export const converged = async (
  docs: Y.Doc[],
  read: (doc: Y.Doc) => unknown,
  deadlineMs = 20_000
): Promise<void> => {
  const snapshot = (): string[] => docs.map((doc) => JSON.stringify(read(doc)))
  await until(
    `${docs.length} documents to converge`,
    () => new Set(snapshot()).size === 1,
    docs.map((doc) => on(doc, 'update')),
    deadlineMs
  ).catch((error: Error) => {
    throw new Error(`${error.message}; states: ${snapshot().map((s) => s.slice(0, 200)).join(' | ')}`)
  })
}
