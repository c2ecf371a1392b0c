// Fused Softmax and LogSoftmaxGather: gradients against finite differences, and equal to their compositions.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

test("fused Softmax gradient", async () => {
  await checkOp([[3, 7]], (x) => E.softmax(x, -1));
  await checkOp([[2, 3, 5]], (x) => E.softmax(x, -1));
});

test("fused LogSoftmaxGather gradient, including repeated targets", async () => {
  await checkOp([[4, 6], { shape: [4], int64: [5, 5, 0, 2] }], E.logSoftmaxGather);
  await checkOp([[2, 3, 6], { shape: [2, 3], int64: [1, 1, 1, 0, 5, 2] }], E.logSoftmaxGather);
});

test("fused ops equal their compositions (values and gradients)", async () => {
  const { graph, result } = E.trace(() => {
    const x = E.input("x", [3, 5], "float64");
    const t = E.input("t", [3], "int64");
    const w = E.input("w", [3, 5], "float64");
    const f = (sm: (x: E.Node) => E.Node, lsg: (x: E.Node, t: E.Node) => E.Node) => {
      const loss = E.reduceSum(E.add(E.reduceSum(E.mul(sm(x), w), [1]), lsg(x, t)), [0]);
      return [loss, ...E.grad(() => loss)(x)];
    };
    const [a, da] = f((x) => E.softmax(x), E.logSoftmaxGather);
    const [b, db] = f((x) => E.softmaxComposed(x), E.logSoftmaxGatherComposed);
    return { a, da, b, db };
  });
  const p = await E.Program.create(E.toOnnx(graph, result), { threads: 1 });
  const x = Float64Array.from({ length: 15 }, (_, i) => Math.sin(i * 1.7) * 3);
  const w = Float64Array.from({ length: 15 }, (_, i) => Math.cos(i));
  const r = await p.run({
    x: { data: x, dims: [3, 5] },
    t: { data: BigInt64Array.of(4n, 0n, 2n), dims: [3] },
    w: { data: w, dims: [3, 5] },
  });
  assert.ok(Math.abs((r.a[0] as number) - (r.b[0] as number)) < 1e-12);
  for (const [i, v] of (r.da as Float64Array).entries())
    assert.ok(Math.abs(v - (r.db as Float64Array)[i]) < 1e-12, `grad ${i}`);
});
