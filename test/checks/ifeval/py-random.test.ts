import assert from "node:assert/strict";
import { test } from "node:test";
import { PyRandom } from "../../../src/checks/ifeval/index.ts";

test("reproduces CPython's random.Random(0) stream", () => {
  // Values printed by CPython 3.11: r = random.Random(0); r.random(), r.random(), r.gauss(0, 1) ×3, …
  const r = new PyRandom(0);
  assert.equal(r.random(), 0.8444218515250481);
  assert.equal(r.random(), 0.7579544029403025);
  assert.equal(r.gauss(0, 1), -0.6797144480784211);
  assert.equal(r.gauss(0, 1), 0.3705035674606598);
  assert.equal(r.gauss(0, 1), -1.016348894188071);
  assert.equal(r.below(1000), 802);
  assert.equal(r.below(7), 6);
  assert.equal(r.choice([1, 2, 3, 4, 5]), 3);
});

test("reseeding restarts the stream and clears the cached gauss value", () => {
  const r = new PyRandom(0);
  r.gauss();
  r.seed(0);
  assert.equal(r.random(), 0.8444218515250481);
});
