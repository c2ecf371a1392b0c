// Regression: the adjoint of Gather (the embedding gradient) must add every duplicate row, identically on every run,
// with ONNX Runtime's threads on. ScatterND "add" lost updates under 2 threads; Gather's rule uses ScatterElements,
// Embed's a one-hot matmul over the distinct ids and a scatter of unique rows.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";

for (const op of ["gather", "embed"] as const)
  test(`${op === "gather" ? "Gather" : "Embed"}'s gradient sums duplicate rows exactly and deterministically with 2 threads`, async () => {
    const V = 40;
    const C = 96;
    const N = 8192; // many repeats of each of V rows
    const { graph, result } = E.trace(() => {
      const table = E.input("table", [V, C]);
      const ids = E.input("ids", ["N"], "int64");
      const rows = E.input("rows", ["U"], "int64");
      const up = E.input("up", ["N", C]);
      const picked = op === "gather" ? E.gather(table, ids) : E.embed(table, ids, rows);
      const loss = E.reduceSum(E.mul(picked, up), [0, 1]); // Σ table[ids[n]]·up[n]
      const [dtable] = E.grad(() => loss)(table);
      return { dtable: dtable! };
    });
    const program = await E.Program.create(E.toOnnx(graph, result), { threads: 2 });
    const ids = new BigInt64Array(N);
    const up = new Float32Array(N * C);
    for (let n = 0; n < N; n++) {
      ids[n] = BigInt((n * 7919) % V);
      for (let c = 0; c < C; c++) up[n * C + c] = Math.sin(n * 0.37 + c * 1.3);
    }
    const want = new Float64Array(V * C);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) want[Number(ids[n]) * C + c]! += up[n * C + c]!;
    const feeds = {
      table: { data: new Float32Array(V * C), dims: [V, C] },
      ids: { data: ids, dims: [N] },
      rows: { data: BigInt64Array.from([...new Set(ids)].sort((a, b) => Number(a - b))), dims: [V] },
      up: { data: up, dims: [N, C] },
    };
    const first = (await program.run(feeds)).dtable as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(first[i]! - want[i]!));
    assert.ok(worst < 1e-3, `largest error ${worst}`);
    for (let r = 0; r < 5; r++) assert.deepEqual((await program.run(feeds)).dtable, first, `run ${r + 2} differs`);
    await program.release();
  });
