// AdamW: one hand-computed step (bias correction, decoupled decay, no decay on flagged-off params); the SIMD kernel
// bit for bit against a scalar float64 loop written here (odd lengths, chunks, several memories, clipping scale);
// the sum of squares; and the end-to-end check: a tiny 2-layer MLP and a tiny attention block train a few steps in
// ORT and the loss drops.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { rng } from "./check-op.ts";

test("AdamW: first step is lr·sign(g) plus decoupled decay; no decay where the flag is off", () => {
  const w = new Float32Array([1, -2]);
  const b = new Float32Array([0.5]);
  const opt = new E.AdamW(
    [
      { data: w, decay: true },
      { data: b, decay: false },
    ],
    { lr: 0.1, weightDecay: 0.5, eps: 0 },
  );
  const fill = (...gs: number[][]) => {
    for (const [k, g] of gs.entries()) opt.grads[k].set(g);
  };
  fill([3, -0.25], [-7]);
  opt.step();
  // m̂ = g, v̂ = g² at t = 1, so the update is lr·g/|g| = ±lr; decay multiplies w by (1 − lr·wd) first.
  assert.ok(Math.abs(w[0] - (1 * 0.95 - 0.1)) < 1e-6);
  assert.ok(Math.abs(w[1] - (-2 * 0.95 + 0.1)) < 1e-6);
  assert.ok(Math.abs(b[0] - (0.5 + 0.1)) < 1e-6);
  // The weights are the caller's arrays, updated in place; the gradients stay as filled.
  assert.equal(opt.params[0], w);
  assert.deepEqual([...opt.grads[1]], [-7]);
  // Second step with the same gradient: m̂ = g, v̂ = g² again (bias correction), so the same ±lr.
  opt.step();
  assert.ok(Math.abs(b[0] - 0.7) < 1e-6);
});

/** The update as a plain scalar float64 loop over float32 storage (the definition the kernel must equal). */
function reference(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, h: Record<string, number>) {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] * h.gs;
    const mi = h.b1 * m[i] + (1 - h.b1) * gi;
    const vi = h.b2 * v[i] + (1 - h.b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * h.shrink - (h.a * mi) / (Math.sqrt(vi * h.c2) + h.eps);
  }
}

test("AdamW's SIMD kernel equals the scalar float64 loop bit for bit (odd sizes, chunks, several memories)", () => {
  const rand = rng(11);
  // 16384 is the staging block: 20000 spans two chunks, the last partial; 1, 3, 17 leave partial kernel steps.
  const sizes = [1000, 17, 20000, 3, 513, 1, 2048];
  const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() - 0.5));
  const decay = sizes.map((_, i) => i % 2 === 0);
  const [lr, wd, b1, b2, eps] = [0.01, 0.1, 0.9, 0.95, 1e-8];
  // A cap of 5 pages: two memories (the last parameter no longer fits the first).
  for (const cap of [undefined, 5 * 65536]) {
    const opt = new E.AdamW(
      init.map((p, i) => ({ data: Float32Array.from(p), decay: decay[i] })),
      { lr, weightDecay: wd, beta1: b1, beta2: b2, eps },
      cap,
    );
    assert.equal(opt.memories, cap ? 2 : 1);
    const ref = init.map((p) => ({
      w: Float32Array.from(p),
      m: new Float32Array(p.length),
      v: new Float32Array(p.length),
    }));
    for (let t = 1; t <= 4; t++) {
      const gs = t === 3 ? 0.37 : 1; // a clipping scale on one step
      const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.37 + t) * 0.1));
      for (const [k, g] of grads.entries()) opt.grads[k].set(g);
      opt.step(lr, gs);
      for (const [k, r] of ref.entries())
        reference(r.w, r.m, r.v, grads[k], {
          b1,
          b2,
          eps,
          gs,
          a: lr / (1 - b1 ** t),
          c2: 1 / (1 - b2 ** t),
          shrink: decay[k] ? 1 - lr * wd : 1,
        });
    }
    for (const [k, r] of ref.entries()) {
      assert.deepEqual(opt.params[k], r.w, `weights ${k}, cap ${cap}`);
      assert.deepEqual(opt.m[k], r.m, `m ${k}, cap ${cap}`);
      assert.deepEqual(opt.v[k], r.v, `v ${k}, cap ${cap}`);
    }
    assert.equal(opt.t, 4);
    // Σ g² per parameter and in total, against float64 sums (the kernel's order differs only in rounding).
    let total = 0;
    for (const [k, g] of opt.grads.entries()) {
      const s = g.reduce((a, x) => a + x * x, 0);
      total += s;
      assert.ok(Math.abs(opt.sumSquares(k) - s) <= 1e-12 * s, `sum of squares ${k}`);
    }
    assert.ok(Math.abs(opt.sumSquares() - total) <= 1e-12 * total);
  }
});

test("AdamW refuses a parameter too large for one memory, naming it and what to do", () => {
  assert.throws(
    () =>
      new E.AdamW(
        [
          { data: new Float32Array(10), decay: false },
          { data: new Float32Array(40000), decay: true },
        ],
        {},
        4 * 65536,
      ),
    (e: Error) =>
      /parameter 1 is too large/.test(e.message) &&
      /at most \d+ values/.test(e.message) &&
      /--engine torch/.test(String((e as { hint?: string }).hint ?? e.message)),
  );
});

async function train(
  build: () => { loss: E.Node; params: E.Node[] },
  data: Record<string, E.Feed>,
  steps: number,
  lr: number,
) {
  const { graph, result } = E.trace(() => {
    const { loss, params } = build();
    const grads = E.grad(() => loss)(...params);
    return { loss, grads, params };
  });
  const outs: Record<string, E.Node> = { loss: result.loss };
  for (const [i, g] of result.grads.entries()) outs[`g${i}`] = g;
  const prog = await E.Program.create(E.toOnnx(graph, outs), { threads: 1 });
  const rand = rng(7);
  const tensors = result.params.map((p) =>
    Float32Array.from({ length: (p.shape as number[]).reduce((a, b) => a * b, 1) }, () => (rand() - 0.5) * 0.6),
  );
  const opt = new E.AdamW(
    tensors.map((data) => ({ data, decay: true })),
    { lr },
  );
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const feeds: Record<string, E.Feed> = { ...data };
    for (const [i, p] of result.params.entries())
      feeds[p.attrs.inputName as string] = { data: tensors[i], dims: p.shape as number[] };
    const out = await prog.run(feeds);
    losses.push((out.loss as Float32Array)[0]);
    for (const [i, g] of opt.grads.entries()) g.set(out[`g${i}`] as Float32Array);
    opt.step();
  }
  await prog.release();
  return losses;
}

test("end to end: a 2-layer MLP classifier trains (loss falls by half in 30 steps)", async () => {
  const [N, C, H, K] = [16, 4, 16, 3];
  const rand = rng(3);
  const x = Float32Array.from({ length: N * C }, () => rand() * 2 - 1);
  const y = BigInt64Array.from({ length: N }, (_, i) => BigInt((x[i * C] > 0 ? 1 : 0) + (x[i * C + 1] > 0 ? 1 : 0)));
  const losses = await train(
    () => {
      const [w1, w2] = [E.input("w1", [H, C]), E.input("w2", [K, H])];
      const h = E.silu(E.linear(E.input("x", [N, C]), w1)); // [N, H]
      const lp = E.logSoftmaxGather(E.linear(h, w2), E.input("y", [N], "int64")); // [N]
      return { loss: E.neg(E.reduceMean(lp, [0])), params: [w1, w2] };
    },
    { x: { data: x, dims: [N, C] }, y: { data: y, dims: [N] } },
    30,
    0.05,
  );
  assert.ok(losses[29] < losses[0] / 2, `losses ${losses[0]} → ${losses[29]}`);
});

test("end to end: a causal attention block with RMSNorm and RoPE learns to copy the previous token", async () => {
  const [T, V, D] = [6, 5, 8];
  const ids = BigInt64Array.from({ length: T }, (_, i) => BigInt((i * 3) % V));
  const targets = BigInt64Array.from({ length: T }, (_, i) => ids[i]); // predict the current token through attention
  const cos = Float32Array.from({ length: T * D }, (_, i) => Math.cos(Math.floor(i / D) * 0.1 * ((i % D) % (D / 2))));
  const sin = Float32Array.from({ length: T * D }, (_, i) => Math.sin(Math.floor(i / D) * 0.1 * ((i % D) % (D / 2))));
  const bias = Float32Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0));
  const losses = await train(
    () => {
      const [emb, wq, wk, wv, g, head] = [
        E.input("emb", [V, D]),
        E.input("wq", [D, D]),
        E.input("wk", [D, D]),
        E.input("wv", [D, D]),
        E.input("g", [D]),
        E.input("head", [V, D]),
      ];
      const x = E.gather(emb, E.input("ids", [T], "int64")); // [T, D]
      const h = E.rmsNorm(x, g, 1e-6);
      const [c, s] = [E.input("cos", [T, D]), E.input("sin", [T, D])];
      const q = E.rope(E.linear(h, wq), c, s);
      const k = E.rope(E.linear(h, wk), c, s);
      const att = E.softmax(E.add(E.mul(E.matmul(q, E.transposeLast(k)), 1 / Math.sqrt(D)), E.input("bias", [T, T])));
      const out = E.add(x, E.matmul(att, E.linear(h, wv))); // [T, D]
      const lp = E.logSoftmaxGather(E.linear(out, head), E.input("t", [T], "int64"));
      return { loss: E.neg(E.reduceMean(lp, [0])), params: [emb, wq, wk, wv, g, head] };
    },
    {
      ids: { data: ids, dims: [T] },
      t: { data: targets, dims: [T] },
      cos: { data: cos, dims: [T, D] },
      sin: { data: sin, dims: [T, D] },
      bias: { data: bias, dims: [T, T] },
    },
    25,
    0.05,
  );
  assert.ok(losses[24] < losses[0] / 3, `losses ${losses[0]} → ${losses[24]}`);
});

test("AdamW's refusal names the parameter by the name it was given", () => {
  assert.throws(
    () =>
      new E.AdamW([{ data: new Float32Array(40000), decay: true, name: "model.embed_tokens.weight" }], {}, 4 * 65536),
    /model\.embed_tokens\.weight is too large/,
  );
});
