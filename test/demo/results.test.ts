// The pure parts of the demo's results by hand: the 4-gram repetition rule, the paired items of each metric (counts
// averaged over seeds, unscorable items left out), and computeResults' means, per-seed differences and ordering.
import assert from "node:assert/strict";
import { test } from "node:test";
import { computeResults, demoConfig, type Generation, pairedItems, repeats4gram } from "../../src/demo/index.ts";

test("repeats4gram: a word 4-gram three or more times (case-insensitive, overlaps count)", () => {
  assert.equal(repeats4gram("a b c d a b c d a b c d"), true);
  assert.equal(repeats4gram("a b c d a b c d"), false);
  assert.equal(repeats4gram('"tips": "tips": "tips": "tips": "tips": "tips":'), true); // one 4-gram at 3 offsets
  assert.equal(repeats4gram("x x x x x"), false); // "x x x x" twice
  assert.equal(repeats4gram("x x x x x x"), true); // three times
  assert.equal(repeats4gram("One two three four. one TWO three four; one two three four!"), false); // "four." ≠ "four;"
  assert.equal(repeats4gram("One two three four one TWO three four one two three four"), true);
  assert.equal(repeats4gram(""), false);
});

const ins = (id: string, n: number) => ({
  id,
  description: "d",
  constraints: Array.from({ length: n }, (_, k) => ({ text: `c${k}` })),
  input: null,
  lang: "en" as const,
});
const gen = (id: string, model: string, seed: number, oks: (boolean | null)[]): Generation => ({
  id,
  model,
  seed,
  instruction: ins(id, oks.length),
  response: "r",
  finish: "stop",
  completion_tokens: 1,
  verdicts: oks.map((ok, k) => ({ text: `c${k}`, ok })),
  all_ok: oks.every((o) => o === true),
});

// Two seeds; item s1 single, m1 and m2 multi (2 and 3 constraints), u1 unscorable for B in seed 1.
const G = {
  1: {
    a: [gen("s1", "a", 1, [true]), gen("m1", "a", 1, [true, true]), gen("m2", "a", 1, [true, false, true])],
    b: [gen("s1", "b", 1, [false]), gen("m1", "b", 1, [true, false]), gen("m2", "b", 1, [false, false, false])],
  },
  2: {
    a: [gen("s1", "a", 2, [false]), gen("m1", "a", 2, [true, true]), gen("m2", "a", 2, [true, true, true])],
    b: [gen("s1", "b", 2, [false]), gen("m1", "b", 2, [true, true]), gen("m2", "b", 2, [false, true, null])],
  },
};

test("pairedItems: per item, counts averaged over seeds; an item unscorable in any seed is left out", () => {
  // IF-S: s1 → a = (1 + 0)/2, b = 0.
  assert.deepEqual(pairedItems(G, [1, 2], "a", "b", "if_s"), [{ a: 0.5, b: 0, d: 1 }]);
  // IF-M: m1 → a = 1, b = (0 + 1)/2; m2 has a null verdict for b in seed 2 → left out.
  assert.deepEqual(pairedItems(G, [1, 2], "a", "b", "if_m"), [{ a: 1, b: 0.5, d: 1 }]);
  // Constraint level: s1 (a 0.5, b 0, d 1), m1 (a 2, b 1.5, d 2).
  assert.deepEqual(pairedItems(G, [1, 2], "a", "b", "constraint_level"), [
    { a: 0.5, b: 0, d: 1 },
    { a: 2, b: 1.5, d: 2 },
  ]);
  // One seed only: m2 is scorable there.
  assert.deepEqual(pairedItems(G, [1], "a", "b", "if_m"), [
    { a: 1, b: 0, d: 1 },
    { a: 0, b: 0, d: 1 },
  ]);
});

test("computeResults: means over seeds, per-seed differences, intervals around them, the ordering", () => {
  const c = { ...demoConfig("quick", 1), seeds: 2, methods: ["sft" as const, "dpo" as const, "iopo" as const] };
  // Seed 1: iopo right on all 4 single items, dpo on 2, sft on 0; seed 2 the same.
  const items = ["p", "q", "r", "s"];
  const run = (seed: number, model: string, right: number) => items.map((id, i) => gen(id, model, seed, [i < right]));
  const generations = {
    1: { sft: run(1, "sft", 0), dpo: run(1, "dpo", 2), iopo: run(1, "iopo", 4) },
    2: { sft: run(2, "sft", 1), dpo: run(2, "dpo", 2), iopo: run(2, "iopo", 4) },
  };
  const tok = { prompt: 10, response: 5, steps: 1 };
  const tokens = { 1: { sft: tok, dpo: tok, iopo: { ...tok, prompt: 30 } }, 2: { sft: tok, dpo: tok, iopo: tok } };
  const sizes = {
    sft_examples: 1,
    iopo_groups: 1,
    dpo_pairs: 1,
    eval_items: 4,
    eval_single: 4,
    eval_multi: 0,
    parameters: 1,
    vocab_size: 1,
  };
  const r = computeResults(c, { sizes, generations, tokens, timings: { a: 1, b: 2 }, cpuTimings: { a: 3 } });
  assert.deepEqual(r.seeds, [1, 2]);
  assert.deepEqual(r.summary.sft!.metrics.if_s, { mean: 0.125, per_seed: [0, 0.25] });
  assert.deepEqual(r.summary.iopo!.metrics.if_s, { mean: 1, per_seed: [1, 1] });
  assert.equal(r.summary.iopo!.tokens_prompt, 20);
  assert.equal(r.summary.iopo!.tokens_response, 5);
  const iopoDpo = r.comparisons.find((x) => x.a === "iopo" && x.b === "dpo" && x.metric === "if_s")!;
  assert.equal(iopoDpo.diff, 0.5);
  assert.deepEqual(iopoDpo.per_seed, [0.5, 0.5]);
  assert.ok(iopoDpo.lo <= 0.5 && iopoDpo.hi >= 0.5);
  const dpoSft = r.comparisons.find((x) => x.a === "dpo" && x.b === "sft" && x.metric === "if_s")!;
  assert.equal(dpoSft.diff, 0.375);
  // No multi-constraint items: no IF-M comparison, and the ordering does not hold there.
  assert.equal(r.comparisons.filter((x) => x.metric === "if_m").length, 0);
  assert.equal(r.ordering.if_m.holds, false);
  // IOPO − DPO* is not run: left out.
  assert.equal(r.comparisons.filter((x) => x.b === "dpo-star").length, 0);
  assert.equal(r.total_seconds, 3);
  assert.equal(r.total_cpu_seconds, 3);
});
