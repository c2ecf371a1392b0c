// The paired bootstrap against hand-computed cases: every resample of a tiny data set enumerated by hand, a fixed
// list of resamples, the seeded resampler's reproducibility, and the normal-theory width on a large sample.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allResamples,
  mulberry32,
  type PairedItem,
  pairedBootstrap,
  pairedStat,
  randomResamples,
  verdictOf,
} from "../../src/report/index.ts";

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test("two items, every resample by hand: a ratio of sums, percentile ends as defined", () => {
  // Item 0: A satisfies 2 of 3 constraints, B 1 of 3; item 1: A 0 of 1, B 1 of 1.
  const items: PairedItem[] = [
    { a: 2, b: 1, d: 3 },
    { a: 0, b: 1, d: 1 },
  ];
  // Original: (2 − 1 + 0 − 1) / 4 = 0.
  close(pairedStat(items, [0, 1])!, 0);
  // The 4 ordered resamples: [0,0] → 2/6, [0,1] → 0/4, [1,0] → 0/4, [1,1] → −2/2. Sorted: −1, 0, 0, 1/3.
  assert.deepEqual(
    [...allResamples(2)].map((idx) => pairedStat(items, idx)),
    [1 / 3, 0, 0, -1],
  );
  // level 0.5: lo = s_⌈4·0.25⌉ = s_1 = −1, hi = s_⌈4·0.75⌉ = s_3 = 0.
  const half = pairedBootstrap(items, allResamples(2), 0.5)!;
  assert.deepEqual([half.diff, half.lo, half.hi, half.resamples, half.n], [0, -1, 0, 4, 2]);
  // level 0.95: lo = s_⌈0.1⌉ = s_1 = −1, hi = s_⌈3.9⌉ = s_4 = 1/3.
  const ci = pairedBootstrap(items, allResamples(2))!;
  close(ci.lo, -1);
  close(ci.hi, 1 / 3);
  assert.equal(verdictOf(ci), "no detectable difference");
});

test("three items with differences 1, 0, 0: the 27 resamples follow Binomial(3, 1/3) by hand", () => {
  const items: PairedItem[] = [
    { a: 1, b: 0, d: 1 },
    { a: 1, b: 1, d: 1 },
    { a: 0, b: 0, d: 1 },
  ];
  // k copies of item 0 → k/3; P(k) = 8, 12, 6, 1 out of 27. Sorted: 8 × 0, 12 × 1/3, 6 × 2/3, 1 × 1.
  const stats = [...allResamples(3)].map((idx) => pairedStat(items, idx)!).sort((x, y) => x - y);
  assert.equal(stats.length, 27);
  assert.deepEqual(
    [0, 1 / 3, 2 / 3, 1].map((v) => stats.filter((s) => Math.abs(s - v) < 1e-12).length),
    [8, 12, 6, 1],
  );
  // level 0.8: lo = s_⌈2.7⌉ = s_3 = 0, hi = s_⌈24.3⌉ = s_25 = 2/3.
  const ci = pairedBootstrap(items, allResamples(3), 0.8)!;
  close(ci.diff, 1 / 3);
  close(ci.lo, 0);
  close(ci.hi, 2 / 3);
  // level 0.5: lo = s_⌈6.75⌉ = s_7 = 0, hi = s_⌈20.25⌉ = s_21 = 2/3.
  const h = pairedBootstrap(items, allResamples(3), 0.5)!;
  close(h.lo, 0);
  close(h.hi, 2 / 3);
});

test("a fixed list of resamples (what a seeded resampler hands over) gives the hand-computed interval", () => {
  const items: PairedItem[] = [
    { a: 1, b: 0, d: 1 },
    { a: 0, b: 0, d: 1 },
    { a: 0, b: 1, d: 1 },
    { a: 1, b: 0, d: 1 },
  ];
  const draws = [
    [0, 0, 3, 3], // 4/4 = 1
    [2, 2, 2, 1], // −3/4
    [0, 1, 2, 3], // 1/4
    [1, 1, 1, 1], // 0
    [0, 2, 1, 1], // 0
  ];
  // Sorted: −0.75, 0, 0, 0.25, 1; level 0.6: lo = s_⌈1⌉ = −0.75, hi = s_⌈4⌉ = 0.25.
  const ci = pairedBootstrap(items, draws, 0.6)!;
  close(ci.diff, 0.25);
  close(ci.lo, -0.75);
  close(ci.hi, 0.25);
  // An empty denominator is dropped (no items), and no items at all gives no interval.
  assert.equal(pairedStat(items, []), null);
  assert.equal(pairedBootstrap([], [[]]), null);
});

test("the seeded resampler: same seed same draws, indices in range, about uniform", () => {
  const a = [...randomResamples(7, 50, 42)];
  const b = [...randomResamples(7, 50, 42)];
  const c = [...randomResamples(7, 50, 43)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.every((idx) => idx.length === 7 && idx.every((i) => Number.isInteger(i) && i >= 0 && i < 7)));
  const r = mulberry32(1);
  const counts = new Array(10).fill(0);
  for (let k = 0; k < 100_000; k++) counts[Math.floor(r() * 10)]++;
  for (const n of counts) assert.ok(Math.abs(n - 10_000) < 500, `bucket ${n}`);
});

test("a large sample: the interval is close to the normal-theory one (mean ± 1.96·SE)", () => {
  // 400 items, A right on 200 of them, B on none: difference 0.5, SE = sqrt(0.25 / 400) = 0.025.
  const items: PairedItem[] = Array.from({ length: 400 }, (_, i) => ({ a: i % 2, b: 0, d: 1 }));
  const ci = pairedBootstrap(items, randomResamples(400, 2000, 7))!;
  close(ci.diff, 0.5);
  assert.ok(Math.abs(ci.lo - (0.5 - 1.96 * 0.025)) < 0.008, `lo ${ci.lo}`);
  assert.ok(Math.abs(ci.hi - (0.5 + 1.96 * 0.025)) < 0.008, `hi ${ci.hi}`);
  assert.equal(verdictOf(ci), "higher");
  assert.equal(verdictOf({ lo: -0.2, hi: -0.01 }), "lower");
});
