// Shape ops: VJPs against central finite differences in float64 (checkOp).

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

test("Reshape, Transpose, Slice, Concat, Expand", async () => {
  await checkOp([[2, 3, 4]], (x) => E.reshape(x, [6, -1]));
  await checkOp([[2, 3, 4]], (x) => E.transpose(x, [2, 0, 1]));
  await checkOp([[2, 6]], (x) => E.slice(x, 1, 2, 5));
  await checkOp([[2, 6]], (x) => E.slice(x, 1, 0, 6 - 1));
  await checkOp([[2, 3]], (x) => E.pad(x, 1, 2, 1), {
    reference: ([x]) => [0, 0, x[0], x[1], x[2], 0, 0, 0, x[3], x[4], x[5], 0],
  });
  await checkOp([[2, 3]], (x) => E.pad(x, 0, 0, 2));
  await checkOp(
    [
      [2, 3],
      [2, 2],
    ],
    (a, b) => E.concat([a, b, a], 1),
  );
  await checkOp([[3, 1]], (x) => E.expand(x, [2, 3, 4]));
});

test("Slice, Pad and Concat with symbolic bounds (S + R = T): values and gradient by hand, two sizes in one session", async () => {
  // y = [3·x[S:T] | 2·x[0:S] | 0 (padded by R)] along T, loss = Σ y·w. By hand: dx[t] = 2·w[R + t] for t < S, 3·w[t − S]
  // for t ≥ S (the swapped halves), and the padded tail carries no gradient.
  const { graph, result } = E.trace(() => {
    const x = E.input("x", [2, "T", 3]);
    // Inputs that carry S and R (as a real batch's masks do); an output reads them, so they are not pruned.
    const anchors = E.add(E.reduceSum(E.input("s_anchor", ["S"]), [0]), E.reduceSum(E.input("r_anchor", ["R"]), [0]));
    const head = E.sliceSpan(x, 1, [], "S", ["R"]); // [2, S, 3]
    const tail = E.sliceSpan(x, 1, ["S"], "R", []); // [2, R, 3]
    const joined = E.concat([E.mul(tail, 3), E.mul(head, 2)], 1, "T"); // [2, T, 3]
    const y = E.padSpan(joined, 1, [], ["R"], "Q"); // Q = T + R, vouched for by the caller (w carries it)
    const w = E.input("w", [2, "Q", 3]);
    const loss = E.reduceSum(E.mul(y, w), [0, 1, 2]);
    return { y, dx: E.grad(() => loss)(x)[0]!, anchors };
  });
  const prog = await E.Program.create(E.toOnnx(graph, { y: result.y, dx: result.dx, a: result.anchors }), {
    threads: 1,
  });
  for (const [S, R] of [
    [3, 2],
    [1, 4],
  ] as const) {
    const T = S + R;
    const x = Float32Array.from({ length: 2 * T * 3 }, (_, i) => i + 1);
    const w = Float32Array.from({ length: 2 * (T + R) * 3 }, (_, i) => (i % 7) - 3);
    const feeds = {
      x: { data: x, dims: [2, T, 3] },
      s_anchor: { data: new Float32Array(S), dims: [S] },
      r_anchor: { data: new Float32Array(R), dims: [R] },
      w: { data: w, dims: [2, T + R, 3] },
    };
    const out = await prog.run(feeds);
    const at = (b: number, t: number, c: number, n: number) => (b * n + t) * 3 + c;
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < 3; c++) {
          const want = t < R ? 3 * x[at(b, S + t, c, T)] : 2 * x[at(b, t - R, c, T)];
          assert.equal(out.y[at(b, t, c, T + R)], want);
          const grad = t < S ? 2 * w[at(b, R + t, c, T + R)] : 3 * w[at(b, t - S, c, T + R)];
          assert.equal(out.dx[at(b, t, c, T)], grad);
        }
  }
  await prog.release();
});

test("Pad and Concat refuse static sizes that do not add up", () => {
  E.trace(() => {
    const x = E.input("x", [2, 3]);
    assert.throws(() => E.padSpan(x, 1, [1], [1], 6), /Pad: widths do not fit/);
    assert.throws(() => E.concat([x, x], 1, 7), /Concat: the joined size/);
    assert.equal(E.padSpan(x, 1, [1], [2], 6).shape[1], 6);
    return x;
  });
});
