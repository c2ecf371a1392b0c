// Elementwise primitives: VJPs against central finite differences in float64 (checkOp), forward values against JS.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

const P = (shape: number[]) => ({ shape, kind: "positive" as const });

test("Add/Sub/Mul/Div with broadcasting", async () => {
  await checkOp([[2, 3], [3]], E.add);
  await checkOp(
    [
      [2, 1, 3],
      [4, 1],
    ],
    E.sub,
  );
  await checkOp(
    [
      [2, 3],
      [2, 1],
    ],
    E.mul,
    { reference: ([a, b]) => a.map((v, i) => v * b[Math.floor(i / 3)]) },
  );
  await checkOp([[2, 3], P([3])], E.div);
});

test("Max, Neg, Exp, Log, Sqrt, Reciprocal, Sigmoid", async () => {
  await checkOp([[3, 4], [4]], E.maximum);
  await checkOp([[5]], E.neg);
  await checkOp([[2, 3]], E.exp, { reference: ([a]) => a.map(Math.exp) });
  await checkOp([P([2, 3])], E.log);
  await checkOp([P([4])], E.sqrt);
  await checkOp([P([4])], E.reciprocal);
  await checkOp([[2, 3]], E.sigmoid, { reference: ([a]) => a.map((v) => 1 / (1 + Math.exp(-v))) });
});

test("Where, Equal, Less, Cast, StopGradient", async () => {
  await checkOp([{ shape: [2, 3], bool: [true, false, true, false, false, true] }, [2, 3], [3]], E.where);
  await checkOp(
    [
      [2, 3],
      [2, 3],
    ],
    (a, b) => E.where(E.less(a, b), a, E.mul(b, 2)),
  );
  await checkOp([[4]], (a) => E.mul(a, E.cast(E.equal(a, a), "float64")));
  await checkOp([[4]], (a) => E.cast(E.cast(a, "float32"), "float64"), { rtol: 1e-4, eps: 1e-3 });
  // stopGradient: d/dx (x · 2sg(x)) = 2x, half the true derivative 4x of 2x².
  const r = await checkOp([[3]], (a) => E.mul(a, E.add(E.stopGradient(a), E.stopGradient(a))), { noAssert: true });
  assert.ok(Math.abs(r.analytic / r.numeric - 0.5) < 1e-6, `ratio ${r.analytic / r.numeric}`);
});

test("Max splits the gradient evenly at ties (as PyTorch): d|x|/dx = 0 and d log σ(x)/dx = ½ at x = 0", async () => {
  const { graph, result } = E.trace(() => {
    const x = E.input("x", [3]);
    const y = E.input("y", [3]);
    const z = E.input("z", [1]);
    const [dx, dy] = E.grad(() => E.reduceSum(E.maximum(x, y), [0]))(x, y);
    // log σ(z) as the trainer builds it: −(max(−z, 0) + log(1 + exp(−|z|))), |z| = max(z, −z).
    const absz = E.maximum(z, E.neg(z));
    const ls = () => E.reduceSum(E.neg(E.add(E.maximum(E.neg(z), 0), E.log(E.add(E.exp(E.neg(absz)), 1)))), [0]);
    const [dz] = E.grad(ls)(z);
    return { dx: dx!, dy: dy!, dz: dz! };
  });
  const prog = await E.Program.create(E.toOnnx(graph, result), { threads: 1 });
  const out = await prog.run({
    x: { data: Float32Array.of(1, 2, 3), dims: [3] },
    y: { data: Float32Array.of(1, 0, 5), dims: [3] },
    z: { data: Float32Array.of(0), dims: [1] },
  });
  assert.deepEqual([...(out.dx as Float32Array)], [0.5, 1, 0]);
  assert.deepEqual([...(out.dy as Float32Array)], [0.5, 0, 1]);
  assert.deepEqual([...(out.dz as Float32Array)], [0.5]);
  await prog.release();
});
