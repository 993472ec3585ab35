/**
 * lib0's reads over the bytes of a Yjs update (same acceptance, same number arithmetic as
 * `lib0/decoding`), bounds-checked, building nothing: what `update-check.ts` walks V1 updates and
 * the "rest" section of V2 updates with. A read that would go past the end, or that lib0 would
 * reject, throws a {@link Rejection} with the offset it stopped at.
 */
import * as decoding from 'lib0/decoding'
import * as string from 'lib0/string'

export const maxSafe = Number.MAX_SAFE_INTEGER

/** Thrown inside a walk only; `checkUpdate` turns it into `{ok: false}`. */
export class Rejection {
  /** `limit`: the update is refused for a limit of the check (not for being malformed). */
  constructor (readonly cause: string, readonly offset: number, readonly limit?: CheckLimit) {}
}

/** A limit of the check an update went over: its name, its value, and what the update reached. */
export interface CheckLimit {
  name: 'maxStructs'
  value: number
  figure: number
}

/** lib0's reads (same acceptance, same number arithmetic), bounds-checked, building nothing. */
export class Reader {
  pos = 0
  /** `base`: where `buf` starts in the whole update, so that rejections name offsets in it. */
  constructor (readonly buf: Uint8Array, readonly base = 0) {}

  /** Where the reader is, in the whole update. */
  get offset (): number {
    return this.base + this.pos
  }

  fail (cause: string): never {
    throw new Rejection(cause, this.base + this.pos)
  }

  remaining (): number {
    return this.buf.length - this.pos
  }

  u8 (): number {
    if (this.pos >= this.buf.length) this.fail('unexpected end of update')
    return this.buf[this.pos++]!
  }

  /** lib0 `readVarUint`, including its overflow rule; the result may exceed 2^53. */
  varUint (): number {
    const buf = this.buf
    let num = 0
    let mult = 1
    while (this.pos < buf.length) {
      const r = buf[this.pos++]!
      num += (r & 0x7f) * mult
      mult *= 128
      if (r < 0x80) return num
      if (num > maxSafe) this.fail('integer out of range')
    }
    return this.fail('unexpected end of update')
  }

  /**
   * A clock, length or client id: Yjs does arithmetic on them, so they must be exact numbers.
   * (`varUint`'s loop, repeated rather than called: the check reads millions of these, most of
   * them before the JIT has compiled anything.)
   */
  safeUint (what: string): number {
    const buf = this.buf
    let num = 0
    let mult = 1
    while (this.pos < buf.length) {
      const r = buf[this.pos++]!
      num += (r & 0x7f) * mult
      mult *= 128
      if (r < 0x80) {
        if (num > maxSafe) this.fail(`${what} ${num} is over 2^53`)
        return num
      }
      if (num > maxSafe) this.fail('integer out of range')
    }
    return this.fail('unexpected end of update')
  }

  /**
   * lib0 `readVarInt` (signed, first byte holds 6 bits), with its sign: a negative zero is
   * returned as `-0` (lib0's run-length columns use it as a flag).
   */
  varInt (): number {
    let r = this.u8()
    let num = r & 0x3f
    let mult = 64
    const sign = (r & 0x40) !== 0 ? -1 : 1
    if ((r & 0x80) === 0) return sign * num
    const buf = this.buf
    while (this.pos < buf.length) {
      r = buf[this.pos++]!
      num += (r & 0x7f) * mult
      mult *= 128
      if (r < 0x80) return sign * num
      if (num > maxSafe) this.fail('integer out of range')
    }
    return this.fail('unexpected end of update')
  }

  /** lib0 `readVarInt` (signed, first byte holds 6 bits). */
  skipVarInt (): void {
    const first = this.u8()
    if ((first & 0x80) === 0) return
    let num = first & 0x3f
    let mult = 64
    const buf = this.buf
    while (this.pos < buf.length) {
      const r = buf[this.pos++]!
      num += (r & 0x7f) * mult
      mult *= 128
      if (r < 0x80) return
      if (num > maxSafe) this.fail('integer out of range')
    }
    this.fail('unexpected end of update')
  }

  skip (n: number): void {
    if (n > this.buf.length - this.pos) this.fail(`${n} bytes announced, ${this.buf.length - this.pos} left`)
    this.pos += n
  }

  /** A length-prefixed byte array (lib0 `readVarUint8Array`). */
  skipBytes (): void {
    this.skip(this.varUint())
  }

  /** A lib0 `varString`: checks it is UTF-8 as lib0's fatal decoder requires; returns its UTF-16 length. */
  string (what: string): number {
    const n = this.varUint()
    if (n > this.buf.length - this.pos) this.fail(`${what}: ${n} bytes announced, ${this.buf.length - this.pos} left`)
    const units = n < nativeFrom ? utf16Length(this.buf, this.pos, this.pos + n) : nativeUtf16Length(this.buf, this.pos, this.pos + n)
    if (units < 0) this.fail(`${what} is not valid UTF-8`)
    this.pos += n
    return units
  }

  /**
   * The string itself, for contents that must be parsed (JSON) and V2's string column: decoded
   * once, with lib0's own fatal decoder where the platform has one (what Yjs will read).
   */
  stringValue (what: string): string {
    const decoder = string.utf8TextDecoder
    if (decoder === null) {
      const start = this.pos
      this.string(what)
      const lib0Decoder = decoding.createDecoder(this.buf)
      lib0Decoder.pos = start
      return decoding.readVarString(lib0Decoder)
    }
    const n = this.varUint()
    if (n > this.buf.length - this.pos) this.fail(`${what}: ${n} bytes announced, ${this.buf.length - this.pos} left`)
    let value = ''
    try {
      value = decoder.decode(this.buf.subarray(this.pos, this.pos + n))
    } catch {
      this.fail(`${what} is not valid UTF-8`)
    }
    this.pos += n
    return value
  }

  /**
   * lib0 `readAny`, without building the value; nesting bounded (lib0 recurses). `json`: the value
   * must also be one that V1 writes as JSON text (V2's embeds and format values, which V1 writes
   * with `JSON.stringify`): neither `undefined` itself nor a bigint anywhere, on which
   * `JSON.stringify` throws or writes nothing — the document would then fail every V1 encoding
   * (every step 2 to a version 1 peer, every `update` event).
   */
  any (maxDepth: number, json = false): void {
    const counts: number[] = []
    const inObject: boolean[] = []
    let count = 1
    let object = false
    for (;;) {
      if (count === 0) {
        if (counts.length === 0) return
        count = counts.pop()!
        object = inObject.pop()!
        continue
      }
      count--
      if (object) this.string('object key')
      const tag = this.u8()
      if (json && (tag === 122 || (tag === 127 && counts.length === 0))) {
        this.fail(`${tag === 122 ? 'a bigint' : 'undefined'} as an embed or format value, which V1 (JSON) cannot carry`)
      }
      switch (tag) {
        case 127: case 126: case 121: case 120: break // undefined, null, false, true
        case 125: this.skipVarInt(); break
        case 124: this.skip(4); break // float32
        case 123: case 122: this.skip(8); break // float64, bigint64
        case 119: this.string('string value'); break
        case 118: case 117: { // object, array
          const n = this.varUint()
          if (n > this.remaining()) this.fail(`${tag === 118 ? 'object' : 'array'} of ${n} entries in ${this.remaining()} bytes`)
          if (n === 0) break
          if (counts.length >= maxDepth) this.fail(`value nested deeper than ${maxDepth}`)
          counts.push(count)
          inObject.push(object)
          count = n
          object = tag === 118
          break
        }
        case 116: this.skipBytes(); break
        default: this.fail(`unknown value type ${tag}`)
      }
    }
  }
}

/**
 * UTF-16 length of the UTF-8 bytes `buf[start, end)`, or -1 if they are not well-formed UTF-8
 * (the WHATWG decoder with `fatal: true`, which lib0 uses, throws exactly then).
 */
const utf16Length = (buf: Uint8Array, start: number, end: number): number => {
  let units = 0
  let i = start
  while (i < end) {
    const b = buf[i]!
    if (b < 0x80) {
      i++
      units++
      continue
    }
    let needed: number
    let lower = 0x80
    let upper = 0xbf
    if (b >= 0xc2 && b <= 0xdf) needed = 1
    else if (b >= 0xe0 && b <= 0xef) {
      needed = 2
      if (b === 0xe0) lower = 0xa0
      else if (b === 0xed) upper = 0x9f // no UTF-16 surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      needed = 3
      if (b === 0xf0) lower = 0x90
      else if (b === 0xf4) upper = 0x8f // nothing past U+10FFFF
    } else return -1
    if (i + needed >= end) return -1
    const second = buf[i + 1]!
    if (second < lower || second > upper) return -1
    for (let k = 2; k <= needed; k++) {
      const c = buf[i + k]!
      if (c < 0x80 || c > 0xbf) return -1
    }
    i += needed + 1
    units += needed === 3 ? 2 : 1
  }
  return units
}

/**
 * Long strings are checked by the fatal UTF-8 decoder lib0 itself reads them with (native, so
 * faster per byte than the loop above, but a call and a string cost more than short texts do).
 */
const nativeFrom = 256

const nativeUtf16Length = (buf: Uint8Array, start: number, end: number): number => {
  const decoder = string.utf8TextDecoder
  if (decoder === null) return utf16Length(buf, start, end)
  try {
    return decoder.decode(buf.subarray(start, end)).length
  } catch {
    return -1
  }
}

/**
 * JSON text of an embed, a format value or a legacy JSON item. `JSON.parse` takes any nesting, but
 * Yjs re-encodes the value recursively (lib0 `writeAny`, when the item waits in its pending set or
 * the document is encoded as V2), which overflows the stack on deep values.
 */
export const parseJson = (r: { fail: (cause: string) => never }, json: string, maxDepth: number): void => {
  try {
    JSON.parse(json)
  } catch {
    r.fail('invalid JSON')
  }
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) r.fail(`JSON value nested deeper than ${maxDepth}`)
    } else if (c === 0x5d || c === 0x7d) depth--
  }
}

/**
 * A subdocument's options become `new Y.Doc({guid, ...options})`: they must be an object, and may
 * not set `gcFilter` (not a function after decoding: every later transaction of the subdocument
 * that deletes something throws) nor `guid` (replaces the guid the item announces).
 */
export const checkSubdocOptions = (r: Reader, maxValueDepth: number): void => {
  const start = r.pos
  r.any(maxValueDepth)
  const decoder = decoding.createDecoder(r.buf)
  decoder.pos = start
  const options: unknown = decoding.readAny(decoder)
  if (options === null || typeof options !== 'object' || Array.isArray(options) || options instanceof Uint8Array) {
    r.fail('subdocument options are not an object')
  }
  for (const key of ['gcFilter', 'guid']) {
    if (Object.prototype.hasOwnProperty.call(options, key)) r.fail(`subdocument options set ${key}`)
  }
}
