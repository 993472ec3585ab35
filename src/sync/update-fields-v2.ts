/**
 * Format V2 of a Yjs update (`Y.UpdateDecoderV2`), read field by field for `update-check.ts`.
 *
 * V2 keeps each kind of field in its own column, run-length encoded with lib0's decoders, then the
 * remaining fields ("rest": counts, clocks of client headers, skips, binary and `any` contents, the
 * delete set) as in V1:
 *
 * ```
 * update = varUint(featureFlag) varUint8Array(column){9} rest
 * columns: keyClock (IntDiffOptRle), client (UintOptRle), leftClock (IntDiffOptRle),
 *          rightClock (IntDiffOptRle), info (Rle of uint8), string (StringDecoder),
 *          parentInfo (Rle of uint8), typeRef (UintOptRle), len (UintOptRle)
 * ```
 *
 * The columns are read here with lib0's semantics (same values for the same bytes), except where
 * lib0 reads past the end of a column and silently returns zeros: that is refused (no Yjs encoder
 * writes it). The last run of an Rle column repeats forever, as in lib0: Yjs's encoder writes no
 * count for it.
 *
 * What V2 adds to check: a column's run can repeat a value any number of times, so a few bytes can
 * announce millions of structs, each of which Yjs would build and integrate. The struct counts of
 * the client headers are therefore held against `maxStructs` before any struct is read. Every other
 * count is bounded by the bytes that must follow it (each `any` value, binary, deletion range and
 * JSON text takes at least one byte of its own).
 */
import { Reader, Rejection, checkSubdocOptions, parseJson } from './update-reader.js'
import { V1Fields, checkSafe, type StructFields } from './update-fields.js'

/** lib0 `RleDecoder` of uint8: a value, then (if bytes follow) how many more times it repeats. */
class ByteRuns {
  private value = 0
  private count = 0
  constructor (private readonly r: Reader, private readonly name: string) {}

  read (): number {
    if (this.count === 0) {
      if (this.r.remaining() === 0) this.r.fail(`the ${this.name} column ends`)
      this.value = this.r.u8()
      // Yjs's encoder writes no count for the last run: it lasts for ever.
      this.count = this.r.remaining() > 0 ? this.r.varUint() + 1 : -1
    }
    this.count--
    return this.value
  }
}

/** lib0 `UintOptRleDecoder`: a value, and a count when the value is written negative (−0 for 0). */
class UintRuns {
  private value = 0
  private count = 0
  constructor (private readonly r: Reader, private readonly name: string) {}

  read (): number {
    if (this.count === 0) {
      // lib0 would read zeros past the end; Yjs's encoder writes every run out.
      if (this.r.remaining() === 0) this.r.fail(`the ${this.name} column ends`)
      let value = this.r.varInt()
      this.count = 1
      if (value < 0 || Object.is(value, -0)) {
        value = -value
        this.count = this.r.varUint() + 2
      }
      this.value = value
    }
    this.count--
    return this.value
  }
}

/** lib0 `IntDiffOptRleDecoder`: differences from the previous value, the low bit flagging a count. */
class DiffRuns {
  private value = 0
  private diff = 0
  private count = 0
  constructor (private readonly r: Reader, private readonly name: string) {}

  read (): number {
    if (this.count === 0) {
      if (this.r.remaining() === 0) this.r.fail(`the ${this.name} column ends`)
      const diff = this.r.varInt()
      // lib0's arithmetic, kept as it is (`&` on a double keeps the parity of any integer).
      const hasCount = diff & 1
      this.diff = Math.floor(diff / 2)
      this.count = hasCount === 1 ? this.r.varUint() + 2 : 1
    }
    this.value += this.diff
    this.count--
    return this.value
  }
}

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff
const isLowSurrogate = (unit: number): boolean => unit >= 0xdc00 && unit <= 0xdfff

/** lib0 `StringDecoder`: every string as one varString, then their UTF-16 lengths (UintRuns). */
class Strings {
  private readonly text: string
  private position = 0
  private readonly lengths: UintRuns

  constructor (private readonly r: Reader) {
    this.text = r.stringValue('string column')
    this.lengths = new UintRuns(r, 'string length')
  }

  /** UTF-16 units left in the column: each further string that must not be empty needs one. */
  get left (): number {
    return this.text.length - this.position
  }

  /**
   * The next string's length, consumed without building it. Its end must not fall between the
   * halves of a surrogate pair: Yjs would keep a lone half here, and every encoding of the
   * document (UTF-8) would turn it into U+FFFD, so that this peer's text differs from the room's.
   * (UTF-8, hence V1, cannot carry a lone half; Yjs never splits a pair itself.)
   */
  skip (what: string): number {
    const length = this.lengths.read()
    if (length > this.left) this.r.fail(`${what}: ${length} characters announced, ${this.left} left in the string column`)
    this.position += length
    if (length > 0 && isHighSurrogate(this.text.charCodeAt(this.position - 1)) && isLowSurrogate(this.text.charCodeAt(this.position))) {
      this.r.fail(`${what}: ends at character ${this.position} of the string column, which splits a surrogate pair`)
    }
    return length
  }

  read (what: string): string {
    const start = this.position
    const length = this.skip(what)
    return this.text.slice(start, start + length)
  }
}

export class V2Fields implements StructFields {
  /** After the columns: client headers and the delete set, laid out as in V1 (read through V1's fields). */
  private readonly rest: V1Fields
  private readonly keyClocks: DiffRuns
  private readonly clients: UintRuns
  private readonly leftClocks: DiffRuns
  private readonly rightClocks: DiffRuns
  private readonly infos: ByteRuns
  private readonly strings: Strings
  private readonly parentInfos: ByteRuns
  private readonly typeRefs: UintRuns
  private readonly lengths: UintRuns
  /** How many keys (format keys, element names) were read: V2 may refer back to them. */
  private keys = 0
  private structsLeft: number
  /** The delete set's running clock (DSDecoderV2), reset per client. */
  private dsValue = 0

  /** `maxStructs`: the most structs the client headers may announce, in total. */
  constructor (update: Uint8Array, private readonly maxStructs: number) {
    this.structsLeft = maxStructs
    const header = new Reader(update)
    header.varUint() // a feature flag Yjs reads and ignores
    const column = (): Reader => {
      const length = header.varUint()
      if (length > header.remaining()) header.fail(`a column of ${length} bytes announced, ${header.remaining()} left`)
      const start = header.pos
      header.pos += length
      return new Reader(update.subarray(start, start + length), start)
    }
    this.keyClocks = new DiffRuns(column(), 'key clock')
    this.clients = new UintRuns(column(), 'client')
    this.leftClocks = new DiffRuns(column(), 'left clock')
    this.rightClocks = new DiffRuns(column(), 'right clock')
    this.infos = new ByteRuns(column(), 'info')
    this.strings = new Strings(column())
    this.parentInfos = new ByteRuns(column(), 'parent info')
    this.typeRefs = new UintRuns(column(), 'type ref')
    this.lengths = new UintRuns(column(), 'length')
    this.rest = new V1Fields(update.subarray(header.pos), header.pos)
  }

  get offset (): number {
    return this.rest.offset
  }

  fail (cause: string): never {
    return this.rest.fail(cause)
  }

  clientCount (): number {
    const count = this.rest.varUint()
    // Each client's header takes at least 2 bytes of the rest (its struct count and first clock).
    if (count > this.rest.remaining() / 2) this.fail(`${count} clients announced in ${this.rest.remaining()} bytes`)
    return count
  }

  structCount (): number {
    return this.rest.structCount()
  }

  client (): number {
    return checkSafe(this, this.clients.read(), 'client id')
  }

  clock (): number {
    return this.rest.clock()
  }

  checkStructCount (count: number, client: number): void {
    if (count > this.structsLeft) {
      const announced = this.maxStructs - this.structsLeft + count
      throw new Rejection(`${count} structs of client ${client} announced: over the ${this.structsLeft} structs left of this update's budget (V2 can announce any number in a few bytes)`,
        this.offset, { name: 'maxStructs', value: this.maxStructs, figure: announced })
    }
    this.structsLeft -= count
  }

  info (): number {
    return this.infos.read()
  }

  gcLength (): number {
    return checkSafe(this, this.lengths.read(), 'GC length')
  }

  skipLength (): number {
    return this.rest.skipLength()
  }

  originClient (): number {
    return checkSafe(this, this.clients.read(), 'origin client')
  }

  originClock (): number {
    return checkSafe(this, this.leftClocks.read(), 'origin clock')
  }

  rightClient (): number {
    return checkSafe(this, this.clients.read(), 'right origin client')
  }

  rightClock (): number {
    return checkSafe(this, this.rightClocks.read(), 'right origin clock')
  }

  parentIsRoot (): boolean {
    return this.parentInfos.read() === 1
  }

  rootName (): void {
    this.strings.skip('root type name')
  }

  parentClient (): number {
    return checkSafe(this, this.clients.read(), 'parent client')
  }

  parentClock (): number {
    return checkSafe(this, this.leftClocks.read(), 'parent clock')
  }

  parentSub (): void {
    this.strings.skip('map key')
  }

  deleted (): number {
    return checkSafe(this, this.lengths.read(), 'deleted length')
  }

  /** ContentJSON: strings of the string column, each 'undefined' or JSON text (never empty). */
  jsonValues (maxDepth: number): number {
    const length = this.lengths.read()
    if (length > this.strings.left) this.fail(`${length} JSON values announced, ${this.strings.left} characters left in the string column`)
    for (let i = 0; i < length; i++) {
      const json = this.strings.read('JSON value')
      if (json !== 'undefined') parseJson(this, json, maxDepth)
    }
    return length
  }

  binary (): void {
    this.rest.binary()
  }

  text (): number {
    return this.strings.skip('text')
  }

  /**
   * V2 writes embeds and format values with lib0's `writeAny`, not as JSON text, so they may hold
   * what JSON cannot: refused (`any`'s `json`), since V1 must still be able to write the document.
   */
  embed (maxDepth: number): void {
    this.rest.any(maxDepth, true)
  }

  format (maxDepth: number): void {
    this.key('format key')
    this.rest.any(maxDepth, true)
  }

  typeRef (): number {
    return this.typeRefs.read()
  }

  elementName (): void {
    this.key('element name')
  }

  anyValues (maxDepth: number): number {
    const length = this.lengths.read()
    if (length > this.rest.remaining()) this.fail(`${length} values announced in ${this.rest.remaining()} bytes`)
    for (let i = 0; i < length; i++) this.rest.any(maxDepth)
    return length
  }

  subdoc (maxDepth: number): void {
    this.strings.skip('subdocument guid')
    checkSubdocOptions(this.rest, maxDepth)
  }

  dsClientCount (): number {
    return this.rest.dsClientCount()
  }

  dsClient (): number {
    this.dsValue = 0
    return this.rest.dsClient()
  }

  dsRangeCount (client: number): number {
    return this.rest.dsRangeCount(client)
  }

  /** DSDecoderV2: the clock as a difference from the end of the previous range. */
  dsClock (): number {
    this.dsValue += this.rest.safeUint('deletion clock')
    return checkSafe(this, this.dsValue, 'deletion clock')
  }

  /** DSDecoderV2: the length less one (a range is never empty). */
  dsLength (): number {
    const length = this.rest.safeUint('deletion length') + 1
    this.dsValue += length
    return checkSafe(this, length, 'deletion length')
  }

  end (): void {
    this.rest.end()
  }

  /**
   * `UpdateDecoderV2.readKey`: a key clock below the number of keys read refers back to one of
   * them; otherwise a new key follows in the string column. (Yjs's encoder always writes new keys.)
   */
  private key (what: string): void {
    const clock = this.keyClocks.read()
    if (clock < 0) this.fail(`${what}: key clock ${clock} is negative`)
    if (clock >= this.keys) {
      this.strings.skip(what)
      this.keys++
    }
  }
}
