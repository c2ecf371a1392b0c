// The trainer's PRNG: reproducible from a seed, resumable from its state, permutations are permutations.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/model/index.ts";

test("same seed, same stream; a restored state continues the stream exactly", () => {
  const a = Rng.fromSeed(7);
  const b = Rng.fromSeed(7);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.next()),
  );
  const c = new Rng(a.state);
  assert.deepEqual(
    Array.from({ length: 5 }, () => c.next()),
    Array.from({ length: 5 }, () => a.next()),
  );
  assert.notDeepEqual(Rng.fromSeed(8).permutation(20), Rng.fromSeed(7).permutation(20));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
});

test("permutation holds every index once and is roughly uniform", () => {
  const r = Rng.fromSeed(1);
  const first = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const p = r.permutation(4);
    assert.deepEqual([...p].sort(), [0, 1, 2, 3]);
    first[p[0]!]! += 1;
  }
  for (const f of first) assert.ok(f > 900 && f < 1100, `first-position counts ${first}`);
});
