// Compositions (softmax, log-softmax(-gather), SiLU, RMSNorm, rotate-half RoPE, linear): gradients against
// finite differences and forward values against plain JS.

import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { checkOp } from "./check-op.ts";

const softmaxRows = (x: number[], n: number) => {
  const out: number[] = [];
  for (let r = 0; r < x.length / n; r++) {
    const row = x.slice(r * n, r * n + n);
    const m = Math.max(...row);
    const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
    out.push(...row.map((v) => Math.exp(v - m) / s));
  }
  return out;
};

test("softmax and logSoftmax", async () => {
  await checkOp([[3, 5]], (x) => E.softmax(x), { reference: ([x]) => softmaxRows(x, 5) });
  await checkOp([[3, 5]], (x) => E.logSoftmax(x), { reference: ([x]) => softmaxRows(x, 5).map(Math.log) });
  await checkOp([[2, 4, 3]], (x) => E.softmax(x, 1));
  await checkOp([[3, 5]], (x) => E.softmaxComposed(x), { reference: ([x]) => softmaxRows(x, 5) });
});

test("logSoftmaxGather equals logSoftmax then pick", async () => {
  const t = [1, 4, 0, 2];
  await checkOp([[4, 5], { shape: [4], int64: t }], E.logSoftmaxGather, {
    reference: ([x]) =>
      softmaxRows(x, 5)
        .filter((_, i) => i % 5 === t[Math.floor(i / 5)])
        .map(Math.log),
  });
  await checkOp([[2, 2, 5], { shape: [2, 2], int64: t }], E.logSoftmaxGather);
  await checkOp([[4, 5], { shape: [4], int64: t }], E.logSoftmaxGatherComposed, {
    reference: ([x]) =>
      softmaxRows(x, 5)
        .filter((_, i) => i % 5 === t[Math.floor(i / 5)])
        .map(Math.log),
  });
});

test("silu, rmsNorm, linear", async () => {
  await checkOp([[2, 3]], E.silu, { reference: ([x]) => x.map((v) => v / (1 + Math.exp(-v))) });
  await checkOp([[2, 3, 4], [4]], (x, w) => E.rmsNorm(x, w, 1e-6), {
    reference: ([x, w]) =>
      x.map((v, i) => {
        const row = x.slice(i - (i % 4), i - (i % 4) + 4);
        return (v / Math.sqrt(row.reduce((a, u) => a + u * u, 0) / 4 + 1e-6)) * w[i % 4];
      }),
  });
  await checkOp([[2, 3, 4], [5, 4], [5]], E.linear);
});

test("rope: rotate-half convention", async () => {
  // x [B=1, H=2, T=3, D=4]; cos/sin [T, D]
  await checkOp(
    [
      [1, 2, 3, 4],
      [3, 4],
      [3, 4],
    ],
    E.rope,
    {
      reference: ([x, c, s]) =>
        x.map((v, i) => {
          const d = i % 4;
          const t = Math.floor(i / 4) % 3;
          const rot = d < 2 ? -x[i + 2] : x[i - 2];
          return v * c[t * 4 + d] + rot * s[t * 4 + d];
        }),
    },
  );
});
