// The runtime: one session serves several batch sizes (symbolic dims), feeds are checked against the graph's
// inputs, parameters stay caller-owned Float32Arrays.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { ShapeError } from "../../src/errors.ts";

test("one session runs several sizes of a symbolic dim, including shapes computed at run time", async () => {
  const { graph, result } = E.trace(() => {
    const x = E.input("x", ["B", "T", 2]);
    const flat = E.reshape(x, [-1, 2]); // [B*T, 2]
    const z = E.add(E.zeros(["B", "T", 2]), x); // Zeros needs B and T at run time
    return {
      flat: E.mul(flat, 2),
      z,
      n: E.reduceSum(E.reshape(E.expand(E.reshape(x, ["B", "T", 1, 2]), ["B", "T", 3, 2]), [-1]), [0]),
    };
  });
  const p = await E.Program.create(E.toOnnx(graph, result), { threads: 1 });
  for (const [B, T] of [
    [1, 3],
    [4, 2],
  ]) {
    const data = Float32Array.from({ length: B * T * 2 }, (_, i) => i);
    const r = await p.run({ x: { data, dims: [B, T, 2] } });
    assert.deepEqual(
      Array.from(r.flat as Float32Array),
      Array.from(data, (v) => v * 2),
    );
    assert.deepEqual(Array.from(r.z as Float32Array), Array.from(data));
    assert.equal((r.n as Float32Array)[0], 3 * data.reduce((a, b) => a + b, 0));
  }
  await assert.rejects(p.run({ x: { data: new Float32Array(6), dims: [1, 3, 3] } }), ShapeError);
  await assert.rejects(p.run({}), /missing feed for graph input x/);
  await p.release();
});

test("feeding the same Float32Array after an in-place update uses the new values", async () => {
  const { graph, result } = E.trace(() => E.reduceSum(E.input("w", [3]), [0]));
  const p = await E.Program.create(E.toOnnx(graph, { s: result }), { threads: 1 });
  const w = new Float32Array([1, 2, 3]);
  assert.equal((await p.run({ w: { data: w, dims: [3] } })).s[0], 6);
  w[0] = 10;
  assert.equal((await p.run({ w: { data: w, dims: [3] } })).s[0], 15);
  await p.release();
});

test("outputs can be written into caller-owned buffers", async () => {
  const { graph, result } = E.trace(() => {
    const x = E.input("x", [3]);
    return { y: E.mul(x, 2), z: E.neg(x) };
  });
  const p = await E.Program.create(E.toOnnx(graph, result), { threads: 1 });
  const y = new Float32Array(3);
  const r = await p.run({ x: { data: new Float32Array([1, 2, 3]), dims: [3] } }, undefined, {
    y: { data: y, dims: [3] },
  });
  assert.equal(r.y, y);
  assert.deepEqual(Array.from(y), [2, 4, 6]);
  assert.deepEqual(Array.from(r.z as Float32Array), [-1, -2, -3]);
  assert.deepEqual(Object.keys(await p.run({ x: { data: new Float32Array(3), dims: [3] } }, ["z"])), ["z"]);
  await assert.rejects(p.run({ x: { data: new Float32Array(3), dims: [3] } }, ["nope"]), /no output nope/);
  await p.release();
});

test("without ORT's memory pattern a session gives the same results, run after run and across sizes", async () => {
  const { graph, result } = E.trace(() => {
    const x = E.input("x", ["B", 8]);
    const w = E.input("w", [8, 8]);
    const h = E.silu(E.matmul(x, w)); // [B, 8]
    return { y: E.reduceSum(E.mul(h, h), [1]) }; // [B]
  });
  const model = E.toOnnx(graph, result);
  const on = await E.Program.create(model, { threads: 1 });
  const off = await E.Program.create(model, { threads: 1, memPattern: false });
  const w = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) / 4);
  for (const B of [3, 5, 3]) {
    const x = Float32Array.from({ length: B * 8 }, (_, i) => Math.cos(i));
    const feeds = { x: { data: x, dims: [B, 8] }, w: { data: w, dims: [8, 8] } };
    const a = (await on.run(feeds)).y as Float32Array;
    const b = (await off.run(feeds)).y as Float32Array;
    assert.equal(b.length, B);
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.ok(a.every((v) => Number.isFinite(v) && v > 0));
  }
  await on.release();
  await off.release();
});

test("FeedPool: one reused array per key, refilled on every call, grown when asked for more", () => {
  const pool = new E.FeedPool();
  const a = pool.f32("bias", 4, -1);
  a[0] = 5;
  const b = pool.f32("bias", 3, 2);
  assert.equal(a.buffer, b.buffer); // the same memory, not a new allocation
  assert.deepEqual([...b], [2, 2, 2]);
  assert.notEqual(pool.f32("other", 3).buffer, b.buffer); // keys are separate
  const c = pool.f32("bias", 10);
  assert.equal(c.length, 10);
  assert.deepEqual([...c], new Array(10).fill(0));
  const ids = pool.i64("ids", 3);
  ids[1] = 7n;
  assert.deepEqual([...pool.i64("ids", 2)], [0n, 0n]);
});
