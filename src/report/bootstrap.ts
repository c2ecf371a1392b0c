// Paired bootstrap confidence intervals for the difference of two methods scored on the same held-out items.
// An item i carries, per method, a numerator (items correct, or constraints satisfied; averaged over seeds) and a
// shared denominator (1 per item, or its number of constraints). The statistic is Σ(a_i − b_i) / Σ d_i over the
// items of a resample, so IF-S, IF-M and constraint-level accuracy differences are all ratio-of-sums differences.
// Items are resampled with replacement, keeping both methods (and every seed) of an item together: that is the
// pairing. Pure functions; the resampler is a seeded PRNG (mulberry32) or, for tiny cases, every resample.

// ---- types ----

export interface PairedItem {
  /** Method A's count on this item (e.g. mean over seeds of "all constraints satisfied", or constraints satisfied). */
  readonly a: number;
  readonly b: number;
  /** The item's weight in the denominator (1 for item-level metrics, its constraint count for constraint level). */
  readonly d: number;
}

export interface Interval {
  /** The statistic on the original items. */
  readonly diff: number;
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  readonly resamples: number;
  /** Items the statistic is over. */
  readonly n: number;
}

// ---- helpers ----

/** mulberry32: a small, fast 32-bit PRNG; the same seed gives the same stream on every machine. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- exports ----

/** Σ(a − b) / Σ d over the items at `idx` (null when the denominator is 0). */
export function pairedStat(items: readonly PairedItem[], idx: Iterable<number>): number | null {
  let num = 0;
  let den = 0;
  for (const i of idx) {
    const it = items[i]!;
    num += it.a - it.b;
    den += it.d;
  }
  return den === 0 ? null : num / den;
}

/** `resamples` index vectors of length n drawn uniformly with replacement from a PRNG seeded with `seed`. */
export function* randomResamples(n: number, resamples: number, seed: number): Generator<number[]> {
  const rand = mulberry32(seed);
  for (let r = 0; r < resamples; r++) {
    const idx = new Array<number>(n);
    for (let k = 0; k < n; k++) idx[k] = Math.floor(rand() * n);
    yield idx;
  }
}

/** Every one of the nⁿ ordered resamples (for hand-checkable tiny cases only). */
export function* allResamples(n: number): Generator<number[]> {
  const idx = new Array<number>(n).fill(0);
  const total = n ** n;
  for (let r = 0; r < total; r++) {
    let x = r;
    for (let k = n - 1; k >= 0; k--) {
      idx[k] = x % n;
      x = Math.floor(x / n);
    }
    yield [...idx];
  }
}

/**
 * Percentile interval of the paired statistic over the given resamples: the sorted statistics s_1 ≤ … ≤ s_B give
 * lo = s_⌈B·α/2⌉ and hi = s_⌈B·(1−α/2)⌉ (1-based; α = 1 − level). Resamples whose denominator is 0 are dropped.
 */
export function pairedBootstrap(
  items: readonly PairedItem[],
  resamples: Iterable<readonly number[]>,
  level = 0.95,
): Interval | null {
  const diff = pairedStat(
    items,
    items.map((_, i) => i),
  );
  if (diff === null) return null;
  const stats: number[] = [];
  for (const idx of resamples) {
    const s = pairedStat(items, idx);
    if (s !== null) stats.push(s);
  }
  if (stats.length === 0) return null;
  stats.sort((x, y) => x - y);
  const B = stats.length;
  const alpha = 1 - level;
  const at = (q: number) => stats[Math.min(B, Math.max(1, Math.ceil(B * q - 1e-9))) - 1]!;
  return { diff, lo: at(alpha / 2), hi: at(1 - alpha / 2), level, resamples: B, n: items.length };
}

/** The interval's reading: "A higher" when it lies above 0, "A lower" below, "no detectable difference" otherwise. */
export function verdictOf(ci: Pick<Interval, "lo" | "hi"> | null): "higher" | "lower" | "no detectable difference" {
  if (ci === null) return "no detectable difference";
  if (ci.lo > 0) return "higher";
  if (ci.hi < 0) return "lower";
  return "no detectable difference";
}
