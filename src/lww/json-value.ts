/**
 * LWW values travel as JSON, so only JSON values are accepted, and checked at the door: a
 * `Date` or `undefined` that JSON would silently change is an error here, not a surprise at
 * another replica.
 */
import { TrysteroYjsError } from '../errors.js'

/** A value JSON keeps as it is: what LWW registers and maps hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Throws a `TrysteroYjsError` naming the path of the first value that is not JSON. */
export function assertJsonValue (value: unknown, what = 'value'): asserts value is JsonValue {
  const problem = findNonJson(value, what, new Set())
  if (problem !== null) throw new TrysteroYjsError(`${problem}: LWW values must be JSON (null, boolean, finite number, string, array, plain object)`)
}

const findNonJson = (value: unknown, path: string, seen: Set<object>): string | null => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${value}`
    case 'object': {
      if (value === null) return null
      if (seen.has(value)) return `${path} is a cycle`
      seen.add(value)
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            const problem = findNonJson(value[i], `${path}[${i}]`, seen)
            if (problem !== null) return problem
          }
          return null
        }
        const prototype = Object.getPrototypeOf(value)
        if (prototype !== Object.prototype && prototype !== null) return `${path} is a ${value.constructor?.name ?? 'non-plain object'}`
        for (const [key, item] of Object.entries(value)) {
          const problem = findNonJson(item, `${path}.${key}`, seen)
          if (problem !== null) return problem
        }
        return null
      } finally {
        seen.delete(value)
      }
    }
    default:
      return `${path} is ${value === undefined ? 'undefined' : `a ${typeof value}`}`
  }
}
