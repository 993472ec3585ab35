/**
 * lib0's ObservableV2, the event convention every Yjs provider shares, with two changes for code
 * that runs inside network handlers: a listener that throws (app code) neither stops the other
 * listeners nor unwinds the emitter halfway through a state change, and `error` / `warning`
 * events that nobody listens to still reach the console, as with Node's EventEmitter.
 */
import { ObservableV2 } from 'lib0/observable'
import { TrysteroYjsError } from './errors.js'

export interface ReportingEvents {
  /** Something that cost data or a sync. */
  error: (error: TrysteroYjsError) => void
  /** Something ignored safely. */
  warning: (warning: TrysteroYjsError) => void
}

export class ReportingObservable<Events extends ReportingEvents & { [K in keyof Events]: (...args: any[]) => void }> extends ObservableV2<Events> {
  override emit<NAME extends keyof Events & string> (name: NAME, args: Parameters<Events[NAME]>): void {
    for (const listener of [...(this._observers.get(name) ?? [])]) {
      try {
        listener(...args)
      } catch (error) {
        if (name === 'error' || name === 'warning') console.error(error)
        else this.reportError(new TrysteroYjsError(`a "${name}" listener threw`, { cause: error }))
      }
    }
  }

  /** Both of the below as one function, for the parts of a provider that report through it. */
  protected readonly report = (kind: 'error' | 'warning', error: TrysteroYjsError): void => {
    if (kind === 'error') this.reportError(error)
    else this.reportWarning(error)
  }

  protected reportError (error: TrysteroYjsError): void {
    if (this.hasListeners('error')) this.emit('error', [error] as Parameters<Events['error']>)
    else console.error(error)
  }

  protected reportWarning (warning: TrysteroYjsError): void {
    if (this.hasListeners('warning')) this.emit('warning', [warning] as Parameters<Events['warning']>)
    else console.warn(warning.message)
  }

  private hasListeners (name: string): boolean {
    return (this._observers.get(name)?.size ?? 0) > 0
  }
}
