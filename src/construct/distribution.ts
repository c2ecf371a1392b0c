// The constraint-count target distribution: 1 + a Poisson draw, truncated to [min, max], with λ solved so the
// truncated mean hits `mean` (default 1–15, mean 4.4 as in TRACE's training set).

import { ConfigError } from "../errors.ts";
import type { Rng } from "./offline/rng.ts";

// ---- types ----

export interface CountDistribution {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

export const DEFAULT_COUNTS: CountDistribution = { min: 1, max: 15, mean: 4.4 };

// ---- helpers ----

function weights(d: CountDistribution, lambda: number): number[] {
  const w: number[] = [];
  let p = Math.exp(-lambda);
  for (let k = 0; k <= d.max - d.min; k++) {
    w.push(p);
    p *= lambda / (k + 1);
  }
  return w;
}

function meanOf(d: CountDistribution, w: readonly number[]): number {
  const total = w.reduce((a, b) => a + b, 0);
  return d.min + w.reduce((a, p, k) => a + p * k, 0) / total;
}

// ---- exports ----

/** Probabilities of min…max; throws a ConfigError when the mean is out of range. */
export function countWeights(d: CountDistribution = DEFAULT_COUNTS): number[] {
  if (!(d.min >= 1 && d.max >= d.min && d.mean >= d.min && d.mean <= d.max))
    throw new ConfigError("bad constraint-count distribution", {
      expected: "1 ≤ min ≤ mean ≤ max",
      got: `min ${d.min}, mean ${d.mean}, max ${d.max}`,
    });
  let lo = 0;
  let hi = 64;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (meanOf(d, weights(d, mid)) < d.mean) lo = mid;
    else hi = mid;
  }
  const w = weights(d, lo);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((p) => p / total);
}

/** Draw a constraint count. */
export function drawCount(rng: Rng, d: CountDistribution, w: readonly number[] = countWeights(d)): number {
  return d.min + rng.weighted(w);
}
