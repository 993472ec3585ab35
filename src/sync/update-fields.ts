/**
 * The fields of a Yjs update, read in the order Yjs reads them (`readClientsStructRefs`, the
 * content readers, `readAndApplyDeleteSet`), whatever the format: `update-check.ts` walks an
 * update through this interface, so that one walk checks both formats. Format V1 keeps every
 * field in one byte sequence ({@link V1Fields}); format V2 spreads them over run-length encoded
 * columns (`update-fields-v2.ts`).
 *
 * Every read is bounds-checked and throws a `Rejection` where Yjs would throw, read past the end,
 * or read something no Yjs encoder writes. Counts are checked against what the bytes can hold
 * before anything is walked, so that a forged count costs nothing.
 */
import { Reader, checkSubdocOptions, maxSafe, parseJson } from './update-reader.js'

export interface StructFields {
  /** Where the walk is, in the update's bytes: for reports. */
  readonly offset: number
  fail: (cause: string) => never
  /** Client ids with structs. */
  clientCount: () => number
  /** Then, per client id: its number of structs, its id, the clock of its first struct. */
  structCount: () => number
  client: () => number
  clock: () => number
  /** Refuses a struct count the update cannot hold (V1: 2 bytes a struct; V2: a budget). */
  checkStructCount: (count: number, client: number) => void
  /** Per struct: its info byte, then what it says follows. */
  info: () => number
  gcLength: () => number
  skipLength: () => number
  originClient: () => number
  originClock: () => number
  rightClient: () => number
  rightClock: () => number
  /** Without origins: the parent is a root type (named) or an item (an id). */
  parentIsRoot: () => boolean
  rootName: () => void
  parentClient: () => number
  parentClock: () => number
  /** The map key, when the info byte says there is one. */
  parentSub: () => void
  /** Contents; each returns the struct's length where it is not 1. */
  deleted: () => number
  jsonValues: (maxDepth: number) => number
  binary: () => void
  text: () => number
  embed: (maxDepth: number) => void
  format: (maxDepth: number) => void
  /** A shared type's kind; {@link elementName} follows for Y.XmlElement (3) and Y.XmlHook (5). */
  typeRef: () => number
  elementName: () => void
  anyValues: (maxDepth: number) => number
  subdoc: (maxDepth: number) => void
  /** The delete set: clients, then per client its id, its ranges, and each range's clock and length. */
  dsClientCount: () => number
  dsClient: () => number
  dsRangeCount: (client: number) => number
  dsClock: () => number
  dsLength: () => number
  /** Refuses bytes after the delete set. */
  end: () => void
}

/** Format V1: lib0 fields back to back (`Y.UpdateDecoderV1`). */
export class V1Fields extends Reader implements StructFields {
  clientCount (): number {
    const count = this.varUint()
    // Each client's header is at least 3 bytes: a count larger than that is a lie, found cheaply.
    if (count > this.remaining() / 3) this.fail(`${count} clients announced in ${this.remaining()} bytes`)
    return count
  }

  structCount (): number {
    return this.varUint()
  }

  client (): number {
    return this.safeUint('client id')
  }

  clock (): number {
    return this.safeUint('clock')
  }

  checkStructCount (count: number, client: number): void {
    // Each struct is at least 2 bytes (info and a length or a parent).
    if (count > this.remaining() / 2) this.fail(`${count} structs of client ${client} announced in ${this.remaining()} bytes`)
  }

  info (): number {
    return this.u8()
  }

  gcLength (): number {
    return this.safeUint('GC length')
  }

  skipLength (): number {
    return this.safeUint('skip length')
  }

  originClient (): number {
    return this.safeUint('origin client')
  }

  originClock (): number {
    return this.safeUint('origin clock')
  }

  rightClient (): number {
    return this.safeUint('right origin client')
  }

  rightClock (): number {
    return this.safeUint('right origin clock')
  }

  parentIsRoot (): boolean {
    return this.varUint() === 1
  }

  rootName (): void {
    this.string('root type name')
  }

  parentClient (): number {
    return this.safeUint('parent client')
  }

  parentClock (): number {
    return this.safeUint('parent clock')
  }

  parentSub (): void {
    this.string('map key')
  }

  deleted (): number {
    return this.safeUint('deleted length')
  }

  /** ContentJSON: strings, each 'undefined' or JSON text. */
  jsonValues (maxDepth: number): number {
    const length = this.varUint()
    if (length > this.remaining()) this.fail(`${length} JSON values announced in ${this.remaining()} bytes`)
    for (let i = 0; i < length; i++) {
      const json = this.stringValue('JSON value')
      if (json !== 'undefined') parseJson(this, json, maxDepth)
    }
    return length
  }

  binary (): void {
    this.skipBytes()
  }

  text (): number {
    return this.string('text')
  }

  embed (maxDepth: number): void {
    parseJson(this, this.stringValue('embed'), maxDepth)
  }

  format (maxDepth: number): void {
    this.string('format key')
    parseJson(this, this.stringValue('format value'), maxDepth)
  }

  typeRef (): number {
    return this.varUint()
  }

  elementName (): void {
    this.string('element name')
  }

  anyValues (maxDepth: number): number {
    const length = this.varUint()
    if (length > this.remaining()) this.fail(`${length} values announced in ${this.remaining()} bytes`)
    for (let i = 0; i < length; i++) this.any(maxDepth)
    return length
  }

  subdoc (maxDepth: number): void {
    this.string('subdocument guid')
    checkSubdocOptions(this, maxDepth)
  }

  dsClientCount (): number {
    const count = this.varUint()
    if (count > this.remaining() / 2) this.fail(`${count} delete-set clients announced in ${this.remaining()} bytes`)
    return count
  }

  dsClient (): number {
    return this.safeUint('delete-set client id')
  }

  dsRangeCount (client: number): number {
    const count = this.varUint()
    if (count > this.remaining() / 2) this.fail(`${count} deletions of client ${client} announced in ${this.remaining()} bytes`)
    return count
  }

  dsClock (): number {
    return this.safeUint('deletion clock')
  }

  dsLength (): number {
    return this.safeUint('deletion length')
  }

  end (): void {
    if (this.remaining() !== 0) this.fail(`${this.remaining()} bytes after the delete set`)
  }
}

/** A number Yjs does arithmetic on (clock, length, client id) must be a non-negative exact integer. */
export const checkSafe = (fields: { fail: (cause: string) => never }, n: number, what: string): number => {
  if (!(n >= 0 && n <= maxSafe)) fields.fail(`${what} ${n} is out of range`)
  return n
}
