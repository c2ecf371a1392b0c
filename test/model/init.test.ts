import assert from "node:assert/strict";
import { test } from "node:test";
import { initParams, makeRng, newModelConfig } from "../../src/model/index.ts";

const cfg = newModelConfig({
  arch: "llama",
  vocabSize: 500,
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediate: 128,
  bosTokenId: 497,
  eosTokenId: 499,
  padTokenId: 497,
});

test("the generator is seeded, uniform on [0, 1) and differs between seeds", () => {
  const a = makeRng(7);
  const b = makeRng(7);
  const xs = Array.from({ length: 20000 }, () => a());
  assert.deepEqual(
    Array.from({ length: 20000 }, () => b()),
    xs,
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  assert.notEqual(makeRng(8)(), makeRng(7)());
});

test("init follows HF: normal(0, 0.02) weights, unit norms, zero pad row; same seed same weights", () => {
  const p = initParams(cfg, 3);
  const q = initParams(cfg, 3);
  assert.deepEqual(p.tensors, q.tensors);
  assert.notDeepEqual(initParams(cfg, 4).tensors[2], p.tensors[2]); // q_proj
  p.table.forEach((row, i) => {
    const t = p.tensors[i]!;
    if (row.init === "ones")
      assert.ok(
        t.every((x) => x === 1),
        row.key,
      );
    if (row.init !== "normal") return;
    let s = 0;
    let s2 = 0;
    for (const x of t) {
      s += x;
      s2 += x * x;
    }
    const mean = s / t.length;
    const std = Math.sqrt(s2 / t.length - mean * mean);
    assert.ok(Math.abs(mean) < 0.003, `${row.key} mean ${mean}`);
    assert.ok(Math.abs(std - 0.02) < 0.002, `${row.key} std ${std}`);
  });
  const emb = p.tensors[0]!;
  assert.ok(emb.subarray(497 * 64, 498 * 64).every((x) => x === 0));
  assert.ok(emb.subarray(496 * 64, 497 * 64).some((x) => x !== 0));
});
