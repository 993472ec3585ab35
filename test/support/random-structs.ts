/**
 * Structurally random updates for fuzzing the update check: structs of any kind (GC, skip, items
 * with or without origins, parents by root name or by id, map keys) for a few clients, drawn from a
 * seeded generator so that a failure comes back the same way.
 */
import type { CraftContent, CraftStruct } from './craft-update.js'

export const fuzzClients = [1, 2, 3, 4, 99]

export interface RandomStructs {
  pick: <T>(xs: readonly T[]) => T
  /** A client block per distinct client drawn (1 to 3 draws), each of 1 to 4 structs at a random clock. */
  blocks: () => Array<{ client: number, clock: number, structs: CraftStruct[] }>
}

/**
 * `contents`: the item contents to draw from, given the same `pick` and `id`. `minSkip`: the
 * shortest skip drawn (V2 cannot write a skip of length 0).
 */
export const randomStructs = (
  random: (n: number) => number,
  contents: (pick: <T>(xs: readonly T[]) => T) => Array<() => CraftContent>,
  { minSkip = 0 }: { minSkip?: number } = {}
): RandomStructs => {
  const pick = <T>(xs: readonly T[]): T => xs[random(xs.length)]!
  const id = (): [number, number] => [pick(fuzzClients), random(14)]
  const struct = (): CraftStruct => {
    const kind = random(10)
    if (kind === 0) return { gc: random(3) }
    if (kind === 1) return { skip: minSkip + random(3) }
    const origin = random(2) === 1 ? id() : undefined
    const rightOrigin = random(3) === 0 ? id() : undefined
    return {
      content: pick(contents(pick))(),
      ...(origin === undefined ? {} : { origin }),
      ...(rightOrigin === undefined ? {} : { rightOrigin }),
      ...(origin === undefined && rightOrigin === undefined ? { parent: random(2) === 1 ? { root: pick(['t', 'm', 'new']) } : { id: id() } } : {}),
      ...(random(3) === 0 ? { parentSub: pick(['k', 'in']) } : {})
    }
  }
  const blocks = (): Array<{ client: number, clock: number, structs: CraftStruct[] }> => {
    const used = new Set<number>()
    const out = []
    for (let k = 0, n = 1 + random(3); k < n; k++) {
      const client = pick(fuzzClients)
      if (used.has(client)) continue
      used.add(client)
      out.push({ client, clock: random(12), structs: Array.from({ length: 1 + random(4) }, struct) })
    }
    return out
  }
  return { pick, blocks }
}
