/**
 * The promises of `whenSynced()`: resolved together the next time the provider is synced, or
 * rejected together when it is destroyed first (an app awaiting them must not hang), and at once
 * for any asked after that.
 */
export class SyncedWaiters {
  private waiters: Array<{ resolve: () => void, reject: (error: Error) => void }> = []
  private closedWith: Error | null = null

  wait (): Promise<void> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith)
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  resolveAll (): void {
    for (const waiter of this.waiters.splice(0)) waiter.resolve()
  }

  /** Rejects every waiter, now and later, with `error`. */
  close (error: Error): void {
    this.closedWith = error
    for (const waiter of this.waiters.splice(0)) waiter.reject(error)
  }
}
