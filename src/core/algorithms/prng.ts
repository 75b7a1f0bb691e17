// A tiny deterministic PRNG (mulberry32). Its whole state is one uint32, so it is stored in
// snapshots and a resumed run draws the same numbers (POT's `random.sample` is unseeded; we are not).

/** Advance the generator: returns a float in [0, 1) and the next state. */
export function mulberry32(state: number): { value: number; state: number } {
  const a = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, state: a >>> 0 };
}

/** Initial generator state for a user seed (any finite number). */
export function seedState(seed: number): number {
  return (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
}

/**
 * `sorted(random.sample(range(n), k))` with a seeded generator: a partial Fisher-Yates shuffle.
 * Returns the chosen indices ascending and the generator state after drawing.
 */
export function sampleSorted(n: number, k: number, state: number): { indices: number[]; state: number } {
  const count = Math.max(0, Math.min(n, Math.floor(k)));
  const pool = Array.from({ length: n }, (_, i) => i);
  let st = state >>> 0;
  for (let i = 0; i < count; i++) {
    const r = mulberry32(st);
    st = r.state;
    const j = i + Math.floor(r.value * (n - i));
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
  return { indices: pool.slice(0, count).sort((a, b) => a - b), state: st };
}
