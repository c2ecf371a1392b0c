// The vjp walker and its transformations: vjp/grad, scalar check, unknown ops, unreachable inputs.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { IopoError, ShapeError } from "../../src/errors.ts";
import { checkOp } from "./check-op.ts";

async function run(outputs: Record<string, E.Node>, graph: E.Graph, feeds: Record<string, E.Feed>) {
  const p = await E.Program.create(E.toOnnx(graph, outputs), { threads: 1 });
  return p.run(feeds);
}

test("vjp returns the output and a pullback", async () => {
  const { graph, result } = E.trace(() => {
    const x = E.input("x", [3], "float64");
    const [out, pullback] = E.vjp((a) => E.mul(a, a), [x]);
    const [dx] = pullback(E.constant([1, 10, 100], [3], "float64"));
    return { out, dx };
  });
  const r = await run(result, graph, { x: { data: new Float64Array([1, 2, 3]), dims: [3] } });
  assert.deepEqual(Array.from(r.out as Float64Array), [1, 4, 9]);
  assert.deepEqual(Array.from(r.dx as Float64Array), [2, 40, 600]);
});

test("grad requires a scalar output and says so", () => {
  assert.throws(
    () => E.trace(() => E.grad((a) => E.mul(a, a))(E.input("x", [3]))),
    (e: unknown) => e instanceof ShapeError && /grad needs a scalar output/.test(e.message),
  );
});

test("unreachable inputs get zeros of their shape; stopGradient blocks", async () => {
  const { graph, result } = E.trace(() => {
    const x = E.input("x", [2]);
    const y = E.input("y", [2, 2]);
    const loss = E.reduceSum(E.add(E.mul(x, x), E.reduceSum(E.stopGradient(y), [0])), [0]);
    const [dx, dy] = E.grad(() => loss)(x, y);
    return { dx, dy };
  });
  const r = await run(result, graph, {
    x: { data: new Float32Array([1, 2]), dims: [2] },
    y: { data: new Float32Array(4), dims: [2, 2] },
  });
  assert.deepEqual(Array.from(r.dx as Float32Array), [2, 4]);
  assert.deepEqual(Array.from(r.dy as Float32Array), [0, 0, 0, 0]);
});

test("an op without a rule is named with its site", () => {
  assert.throws(
    () =>
      E.trace(() => {
        const x = E.input("x", [2]);
        const bad = E.emit("Mystery", [x], {}, [2], "float32");
        return E.grad(() => E.reduceSum(bad, [0]))(x);
      }),
    (e: unknown) =>
      e instanceof IopoError &&
      /no gradient rule for op Mystery/.test(e.message) &&
      /autodiff\.test\.ts:\d+/.test(e.message),
  );
});

test("walker: fan-in sums, broadcast sums back, unrelated inputs get zeros", async () => {
  await checkOp([[3], [2, 3]], (a, b) => E.mul(E.add(a, b), E.exp(a)));
  await checkOp([[1, 3], [4]], (a, b) => E.add(E.mul(a, a), E.reduceSum(b, [0], true)));
});
