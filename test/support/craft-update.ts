/**
 * Hand-made Yjs V1 updates, byte by byte, for tests of what a hostile peer can send: every
 * field Yjs reads can be set to anything (an origin that does not exist, a zero length, a
 * content type Yjs never writes). Field order and encodings are those of yjs 13.6's
 * `UpdateEncoderV1` / `Item.write` / `writeDeleteSet`.
 */
import * as encoding from 'lib0/encoding'

export type CraftId = [client: number, clock: number]

export type CraftContent =
  | { deleted: number }
  | { json: string[] } // raw strings, as ContentJSON writes them ('undefined' or JSON text)
  | { binary: Uint8Array }
  | { string: string }
  | { stringBytes: Uint8Array } // raw bytes, to craft invalid UTF-8
  | { embed: string } // raw JSON text
  | { format: [key: string, json: string] }
  | { type: number, key?: string } // 0 array, 1 map, 2 text, 3 xml element (key), 4 fragment, 5 hook (key), 6 xml text
  | { any: unknown[] }
  | { doc: string, opts: unknown }
  | { rawRef: number, bytes: Uint8Array } // any content ref, followed by raw bytes

export type CraftStruct =
  | { gc: number }
  | { skip: number }
  | {
    origin?: CraftId
    rightOrigin?: CraftId
    /** Written only when there is neither origin nor rightOrigin (as Yjs does). */
    /** `parentInfo` is the number Yjs reads before the parent (1: a root name follows; else an id). */
    parent?: { root: string } | { id: CraftId, parentInfo?: number }
    parentSub?: string
    content: CraftContent
    /** OR-ed into the info byte, e.g. to set flags Yjs would not. */
    extraInfo?: number
  }

export interface CraftClient { client: number, clock: number, structs: CraftStruct[], /** written instead of structs.length */ count?: number }

export interface CraftUpdate {
  clients: CraftClient[]
  deletes?: Array<{ client: number, ranges: Array<[clock: number, len: number]> }>
  /** Bytes appended after the delete set. */
  trailing?: Uint8Array
  /** Cut the encoded update to this many bytes. */
  truncateTo?: number
}

const contentRef = (content: CraftContent): number => {
  if ('deleted' in content) return 1
  if ('json' in content) return 2
  if ('binary' in content) return 3
  if ('string' in content || 'stringBytes' in content) return 4
  if ('embed' in content) return 5
  if ('format' in content) return 6
  if ('type' in content) return 7
  if ('any' in content) return 8
  if ('doc' in content) return 9
  return content.rawRef
}

const writeContent = (encoder: encoding.Encoder, content: CraftContent): void => {
  if ('deleted' in content) encoding.writeVarUint(encoder, content.deleted)
  else if ('json' in content) {
    encoding.writeVarUint(encoder, content.json.length)
    for (const s of content.json) encoding.writeVarString(encoder, s)
  } else if ('binary' in content) encoding.writeVarUint8Array(encoder, content.binary)
  else if ('string' in content) encoding.writeVarString(encoder, content.string)
  else if ('stringBytes' in content) encoding.writeVarUint8Array(encoder, content.stringBytes)
  else if ('embed' in content) encoding.writeVarString(encoder, content.embed)
  else if ('format' in content) {
    encoding.writeVarString(encoder, content.format[0])
    encoding.writeVarString(encoder, content.format[1])
  } else if ('type' in content) {
    encoding.writeVarUint(encoder, content.type)
    if (content.key !== undefined) encoding.writeVarString(encoder, content.key)
  } else if ('any' in content) {
    encoding.writeVarUint(encoder, content.any.length)
    for (const value of content.any) encoding.writeAny(encoder, value as never)
  } else if ('doc' in content) {
    encoding.writeVarString(encoder, content.doc)
    encoding.writeAny(encoder, content.opts as never)
  } else encoding.writeUint8Array(encoder, content.bytes)
}

const writeId = (encoder: encoding.Encoder, [client, clock]: CraftId): void => {
  encoding.writeVarUint(encoder, client)
  encoding.writeVarUint(encoder, clock)
}

/** Encodes `update` as Yjs V1 bytes. */
export const craftUpdate = (update: CraftUpdate): Uint8Array => {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, update.clients.length)
  for (const { client, clock, structs, count } of update.clients) {
    encoding.writeVarUint(encoder, count ?? structs.length)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
    for (const struct of structs) {
      if ('gc' in struct) {
        encoding.writeUint8(encoder, 0)
        encoding.writeVarUint(encoder, struct.gc)
      } else if ('skip' in struct) {
        encoding.writeUint8(encoder, 10)
        encoding.writeVarUint(encoder, struct.skip)
      } else {
        const info = (contentRef(struct.content) & 31) |
          (struct.origin === undefined ? 0 : 128) |
          (struct.rightOrigin === undefined ? 0 : 64) |
          (struct.parentSub === undefined ? 0 : 32) |
          (struct.extraInfo ?? 0)
        encoding.writeUint8(encoder, info)
        if (struct.origin !== undefined) writeId(encoder, struct.origin)
        if (struct.rightOrigin !== undefined) writeId(encoder, struct.rightOrigin)
        if (struct.origin === undefined && struct.rightOrigin === undefined) {
          const parent = struct.parent ?? { root: 'root' }
          if ('root' in parent) {
            encoding.writeVarUint(encoder, 1)
            encoding.writeVarString(encoder, parent.root)
          } else {
            encoding.writeVarUint(encoder, parent.parentInfo ?? 0)
            writeId(encoder, parent.id)
          }
          if (struct.parentSub !== undefined) encoding.writeVarString(encoder, struct.parentSub)
        }
        writeContent(encoder, struct.content)
      }
    }
  }
  const deletes = update.deletes ?? []
  encoding.writeVarUint(encoder, deletes.length)
  for (const { client, ranges } of deletes) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, ranges.length)
    for (const [clock, len] of ranges) {
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarUint(encoder, len)
    }
  }
  if (update.trailing !== undefined) encoding.writeUint8Array(encoder, update.trailing)
  const bytes = encoding.toUint8Array(encoder)
  return update.truncateTo === undefined ? bytes : bytes.slice(0, update.truncateTo)
}

/** A string item (the commonest struct), for brevity in tables of cases. */
export const text = (s: string, at?: { origin?: CraftId, rightOrigin?: CraftId, root?: string }): CraftStruct => ({
  ...(at?.origin === undefined ? {} : { origin: at.origin }),
  ...(at?.rightOrigin === undefined ? {} : { rightOrigin: at.rightOrigin }),
  ...(at?.origin === undefined && at?.rightOrigin === undefined ? { parent: { root: at?.root ?? 'root' } } : {}),
  content: { string: s }
})

/** A lib0 column (or any byte array) written by `write`. */
export const column = (write: (encoder: encoding.Encoder) => void): Uint8Array => {
  const encoder = encoding.createEncoder()
  write(encoder)
  return encoding.toUint8Array(encoder)
}

/**
 * A V2 update of `count` GC structs of `length` under client 5, written by hand: the info column
 * holds one 0 (its last run lasts for ever), the length column one run of `count`.
 */
export const gcRunV2 = (count: number, length: number): Uint8Array => column((e) => {
  encoding.writeVarUint(e, 0) // feature flag
  encoding.writeVarUint8Array(e, new Uint8Array()) // key clocks
  encoding.writeVarUint8Array(e, column((c) => encoding.writeVarInt(c, 5))) // clients
  encoding.writeVarUint8Array(e, new Uint8Array()) // left clocks
  encoding.writeVarUint8Array(e, new Uint8Array()) // right clocks
  encoding.writeVarUint8Array(e, new Uint8Array([0])) // infos: GC, for ever
  encoding.writeVarUint8Array(e, column((c) => encoding.writeVarString(c, ''))) // strings
  encoding.writeVarUint8Array(e, new Uint8Array()) // parent infos
  encoding.writeVarUint8Array(e, new Uint8Array()) // type refs
  encoding.writeVarUint8Array(e, column((c) => {
    if (count === 1) return encoding.writeVarInt(c, length)
    encoding.writeVarInt(c, -length) // negative: a count follows (lib0 UintOptRleEncoder)
    encoding.writeVarUint(c, count - 2)
  }))
  encoding.writeVarUint(e, 1) // clients with structs
  encoding.writeVarUint(e, count)
  encoding.writeVarUint(e, 0) // first clock
  encoding.writeVarUint(e, 0) // delete set: no clients
})
