import * as decoding from 'lib0/decoding'

/**
 * `decoding.readVarUint8Array` trusts the length prefix as far as the underlying ArrayBuffer
 * goes, which may extend past a view. A forged length must not read outside the message.
 */
export const readBoundedBytes = (decoder: decoding.Decoder): Uint8Array => {
  const length = decoding.readVarUint(decoder)
  const left = decoder.arr.length - decoder.pos
  if (length > left) throw new RangeError(`length prefix ${length} exceeds the ${left} bytes left in the message`)
  return decoding.readUint8Array(decoder, length)
}
