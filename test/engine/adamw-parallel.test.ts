// ParallelAdamW: bit-identical to AdamW over several steps (decay and no-decay params, shards on worker threads),
// and the arrays it hands back are the live ones.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { rng } from "./check-op.ts";

test("ParallelAdamW equals AdamW element for element", async () => {
  const rand = rng(11);
  const sizes = [1000, 17, 4096, 3, 513, 2048];
  const init = sizes.map((n) => Float32Array.from({ length: n }, () => rand() - 0.5));
  const decay = sizes.map((_, i) => i % 2 === 0);
  const opts = { lr: 0.01, weightDecay: 0.1 };
  const serial = new E.AdamW(
    init.map((p, i) => ({ data: Float32Array.from(p), decay: decay[i] })),
    opts,
  );
  for (const threads of [2, 3]) {
    const parallel = new E.ParallelAdamW(
      init.map((p, i) => ({ data: Float32Array.from(p), decay: decay[i] })),
      opts,
      threads,
    );
    assert.equal(parallel.shards.length, threads);
    for (let s = 0; s < 4; s++) {
      const grads = sizes.map((n) => Float32Array.from({ length: n }, (_, j) => Math.sin(j * 0.37 + s) * 0.1));
      if (threads === 2) serial.step(grads);
      for (const [k, g] of grads.entries()) parallel.grads[k].set(g);
      await parallel.step();
    }
    for (const [k, p] of parallel.params.entries()) {
      assert.deepEqual(p, serial.params[k].data, `param ${k}, ${threads} threads`);
      // The moments come back to the calling thread (checkpoints save them) and equal the serial ones.
      assert.deepEqual(parallel.m[k], serial.m[k], `m ${k}, ${threads} threads`);
      assert.deepEqual(parallel.v[k], serial.v[k], `v ${k}, ${threads} threads`);
    }
    assert.equal(parallel.t, serial.t);
    await parallel.close();
  }
});
