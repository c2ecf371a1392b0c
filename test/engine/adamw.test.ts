// AdamW: one hand-computed step (bias correction, decoupled decay, no decay on flagged-off params), and the
// end-to-end check: a tiny 2-layer MLP and a tiny attention block train a few steps in ORT and the loss drops.

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
  opt.step([new Float32Array([3, -0.25]), new Float32Array([-7])]);
  // m̂ = g, v̂ = g² at t = 1, so the update is lr·g/|g| = ±lr; decay multiplies w by (1 − lr·wd) first.
  assert.ok(Math.abs(w[0] - (1 * 0.95 - 0.1)) < 1e-6);
  assert.ok(Math.abs(w[1] - (-2 * 0.95 + 0.1)) < 1e-6);
  assert.ok(Math.abs(b[0] - (0.5 + 0.1)) < 1e-6);
  // Second step with the same gradient: m̂ = g, v̂ = g² again (bias correction), so the same ±lr.
  opt.step([new Float32Array([3, -0.25]), new Float32Array([-7])]);
  assert.ok(Math.abs(b[0] - 0.7) < 1e-6);
  assert.throws(() => opt.step([new Float32Array(1), new Float32Array(1)]), /gradient 0 has 1 values/);
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
    opt.step(result.grads.map((_, i) => out[`g${i}`] as Float32Array));
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
