import assert from "node:assert/strict";
import { test } from "node:test";
import { traceScores } from "../../../src/evaluate/trace/index.ts";
import { type Instruction, Taxonomy } from "../../../src/schema/index.ts";

const inst = (id: string, types: (Instruction["constraints"][number]["type"] | null)[]): Instruction => ({
  id,
  description: "d",
  constraints: types.map((t, i) => (t ? { text: `${i + 1}. c`, type: t } : { text: `${i + 1}. c`, label: "·" })),
  input: null,
});

test("IF-S, IF-M, constraint level, per dimension and per count by hand; failures excluded", () => {
  const s = traceScores([
    { instruction: inst("a", ["Inclusion"]), scores: [10] }, // single, correct
    { instruction: inst("b", ["Numerical"]), scores: [9] }, // single, wrong
    { instruction: inst("c", ["Inclusion", "Numerical"]), scores: [10, 10] }, // multi, correct
    { instruction: inst("d", ["Inclusion", "Numerical", null]), scores: [10, 3, 10] }, // multi, wrong
    { instruction: inst("e", ["Inclusion", "Theme"]), scores: null }, // judge failure
  ]);
  assert.equal(s.items, 5);
  assert.equal(s.judged, 4);
  assert.deepEqual(s.if_s, { correct: 1, total: 2, accuracy: 0.5 });
  assert.deepEqual(s.if_m, { correct: 1, total: 2, accuracy: 0.5 });
  assert.deepEqual(s.overall, { correct: 2, total: 4, accuracy: 0.5 });
  assert.deepEqual(s.constraint_level, { correct: 5, total: 7, accuracy: 5 / 7 });
  assert.deepEqual(s.by_dimension.Inclusion, { correct: 3, total: 3, accuracy: 1 });
  assert.deepEqual(s.by_dimension.Numerical, { correct: 1, total: 3, accuracy: 1 / 3 });
  assert.deepEqual(s.by_dimension.unknown, { correct: 1, total: 1, accuracy: 1 });
  assert.equal(s.by_dimension.Theme, undefined, "a failed item's constraints are not counted");
  assert.deepEqual(Object.keys(s.by_count), ["1", "2", "3"]);
  assert.deepEqual(s.by_count["3"], { correct: 0, total: 1, accuracy: 0 });
  assert.deepEqual(s.judge_failures, { count: 1, ids: ["e"] });
});

test("an empty or all-failed run gives null accuracies, never 0 or 1", () => {
  const s = traceScores([{ instruction: inst("x", ["Theme"]), scores: null }]);
  assert.equal(s.if_s.accuracy, null);
  assert.equal(s.overall.accuracy, null);
});

test("a user taxonomy (eval trace --taxonomy) keys the per-dimension breakdown; others count as unknown", () => {
  const mine = Taxonomy.from({
    categories: ["Content"],
    dimensions: [{ category: "Content", name: "Inclusion", zh: "包含", meaning: "must include given items" }],
  });
  const s = traceScores(
    [
      { instruction: inst("a", ["Inclusion", "Numerical"]), scores: [10, 4] },
      { instruction: inst("b", ["Theme"]), scores: [10] },
    ],
    mine,
  );
  assert.deepEqual(Object.keys(s.by_dimension).sort(), ["Inclusion", "unknown"]);
  assert.deepEqual(s.by_dimension.Inclusion, { correct: 1, total: 1, accuracy: 1 });
  assert.deepEqual(s.by_dimension.unknown, { correct: 1, total: 2, accuracy: 0.5 });
  // The built-in taxonomy (the default) keeps every TRACE dimension.
  assert.deepEqual(
    Object.keys(
      traceScores([{ instruction: inst("a", ["Inclusion", "Numerical"]), scores: [10, 4] }]).by_dimension,
    ).sort(),
    ["Inclusion", "Numerical"],
  );
});
