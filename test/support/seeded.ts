/** Seeded randomness for tests that must fail the same way twice (mulberry32: 32-bit integer arithmetic only). */

/** A deterministic generator of integers in [0, n). */
export const seeded = (seed: number): (n: number) => number => {
  let state = seed >>> 0
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor(((t ^ (t >>> 14)) >>> 0) / 4294967296 * n)
  }
}

/** `xs` in an order drawn from `random` (Fisher–Yates). */
export const shuffle = <T>(xs: readonly T[], random: (n: number) => number): T[] => {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = random(i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
