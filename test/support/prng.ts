// A seeded generator for the fuzz tests: small, fast, good enough to explore inputs, and
// reproducible from its seed (mulberry32).
export function prng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, maybe: (p = 0.5) => next() < p }
}

export type Rng = ReturnType<typeof prng>
