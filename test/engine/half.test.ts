// Half-precision stored weights (engine/half.ts, the re-upcast in autodiff.ts): bfloat16 and float16 bits upcast to
// the float32 values an independent decoder gives (subnormals, signs, infinities); a linear layer over upcast bits
// gives the float32 layer's output and input gradient exactly, with and without checkpointing; no backward node
// reads a forward upcast; misuse is refused.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { ShapeError } from "../../src/errors.ts";
import { decodeToF32, f32ToBf16, f32ToF16 } from "../../src/model/index.ts";
import { rng } from "./check-op.ts";

async function run(outputs: Record<string, E.Node>, graph: E.Graph, feeds: Record<string, E.Feed>) {
  const p = await E.Program.create(E.toOnnx(graph, outputs), { threads: 1 });
  try {
    return await p.run(feeds);
  } finally {
    await p.release();
  }
}

const bytesOf = (bits: Uint16Array) => new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);

for (const [dtype, stored] of [
  ["bfloat16", "BF16"],
  ["float16", "F16"],
] as const)
  test(`upcast of ${dtype} bits gives the values a JS decoder gives (signs, subnormals, infinities, with and without a dependency)`, async () => {
    // 1, −2, 0.25, the smallest subnormal, a large value, −0, +∞, and a value with every mantissa bit set.
    const bits =
      dtype === "bfloat16"
        ? new Uint16Array([0x3f80, 0xc000, 0x3e80, 0x0001, 0x7f00, 0x8000, 0x7f80, 0x3fff])
        : new Uint16Array([0x3c00, 0xc000, 0x3400, 0x0001, 0x7bff, 0x8000, 0x7c00, 0x3fff]);
    const { graph, result } = E.trace(() => {
      const w = E.input("w", [2, 4], dtype);
      const dep = E.input("dep", [3]);
      return { plain: E.upcast(w), after: E.upcast(w, dep) };
    });
    const r = await run(result, graph, {
      w: { data: bits, dims: [2, 4] },
      dep: { data: new Float32Array([Number.NaN, 1, 2]), dims: [3] },
    });
    const expected = Array.from(decodeToF32(bytesOf(bits), stored, bits.length));
    assert.deepEqual(Array.from(r.plain as Float32Array), expected);
    assert.deepEqual(Array.from(r.after as Float32Array), expected);
  });

/** Random weights [out, in] rounded to the half format, as float32 values and as bits. */
function halfWeights(dtype: "bfloat16" | "float16", out: number, inp: number, seed: number) {
  const rand = rng(seed);
  const encode = dtype === "bfloat16" ? f32ToBf16 : f32ToF16;
  const bits = Uint16Array.from({ length: out * inp }, () => encode((rand() - 0.5) * 0.2));
  const f32 = decodeToF32(bytesOf(bits), dtype === "bfloat16" ? "BF16" : "F16", bits.length);
  return { bits, f32 };
}

for (const checkpoint of [false, true])
  for (const dtype of ["bfloat16", "float16"] as const)
    test(`two linear layers over upcast ${dtype} weights equal float32 weights exactly: output and input gradient${checkpoint ? " (checkpointed)" : ""}`, async () => {
      const [B, C, I] = [3, 16, 24];
      const w1 = halfWeights(dtype, I, C, 1);
      const w2 = halfWeights(dtype, C, I, 2);
      const x = Float32Array.from({ length: B * C }, rng(3));
      const build = (half: boolean) =>
        E.trace(() => {
          const xin = E.input("x", [B, C]);
          const [a, b] = half
            ? [E.input("w1", [I, C], dtype), E.input("w2", [C, I], dtype)]
            : [E.input("w1", [I, C]), E.input("w2", [C, I])];
          const layer = (h: E.Node) => {
            const wa = half ? E.upcast(a, h) : a;
            const mid = E.silu(E.linear(h, wa)); // [B, I]
            return E.add(h, E.linear(mid, half ? E.upcast(b, mid) : b)); // [B, C]
          };
          const y = checkpoint ? E.checkpoint((h) => [layer(h)], [xin])[0]! : layer(xin);
          const loss = E.reduceSum(E.mul(y, y), [0, 1]);
          const [dx] = E.grad(() => loss)(xin);
          return { loss, dx: dx! };
        });
      const feeds = (half: boolean) => ({
        x: { data: x, dims: [B, C] },
        w1: { data: half ? w1.bits : w1.f32, dims: [I, C] },
        w2: { data: half ? w2.bits : w2.f32, dims: [C, I] },
      });
      const ref = build(false);
      const half = build(true);
      assert.ok(half.graph.nodes.some((n) => n.op === "Upcast"));
      const [r32, r16] = [
        await run(ref.result, ref.graph, feeds(false)),
        await run(half.result, half.graph, feeds(true)),
      ];
      assert.deepEqual(Array.from(r16.loss as Float32Array), Array.from(r32.loss as Float32Array));
      assert.deepEqual(Array.from(r16.dx as Float32Array), Array.from(r32.dx as Float32Array));
    });

test("the backward pass upcasts the weights again: no backward node reads a forward upcast", () => {
  let lastForward = -1;
  const { graph } = E.trace(() => {
    const x = E.input("x", [4, 8]);
    const w = E.input("w", [8, 8], "bfloat16");
    let h = x;
    for (let i = 0; i < 3; i++) h = E.add(h, E.sigmoid(E.linear(h, E.upcast(w, h))));
    const loss = E.reduceSum(E.mul(h, h), [0, 1]);
    lastForward = loss.id;
    return E.grad(() => loss)(x);
  });
  const forwardUpcasts = new Set(graph.nodes.filter((n) => n.op === "Upcast" && n.id <= lastForward).map((n) => n.id));
  assert.equal(forwardUpcasts.size, 3);
  const views = new Set(forwardUpcasts); // forward upcasts and the views over them (Transpose)
  for (const n of graph.nodes)
    if (n.id <= lastForward && n.op === "Transpose" && views.has(n.inputs[0]!)) views.add(n.id);
  const backward = graph.nodes.filter((n) => n.id > lastForward);
  assert.ok(backward.filter((n) => n.op === "Upcast").length >= 3, "the backward has its own upcasts");
  for (const n of backward)
    for (const i of n.inputs) assert.ok(!views.has(i), `${n.name} reads ${graph.nodes[i]!.name} from the forward pass`);
});

test("half precision is storage only: casting to or from it, upcasting float32, a non-float dependency are refused", () => {
  E.trace(() => {
    const w = E.input("w", [2, 2], "bfloat16");
    const x = E.input("x", [2, 2]);
    assert.throws(() => E.cast(w, "float32"), ShapeError);
    assert.throws(() => E.cast(x, "float16"), ShapeError);
    assert.throws(() => E.upcast(x), ShapeError);
    assert.throws(() => E.upcast(w, E.input("ids", [2], "int64")), ShapeError);
    assert.throws(() => E.add(E.upcast(w), E.constant([1, 2, 3, 4], [2, 2], "bfloat16")), /half precision/);
    return {};
  });
});

test("gradient rules that read an upcast weight as a value (Div, Sigmoid, Exp) get the re-upcast one and match float32 exactly", async () => {
  const w = halfWeights("bfloat16", 2, 3, 7);
  const x = Float32Array.from({ length: 6 }, rng(8));
  const build = (half: boolean) =>
    E.trace(() => {
      const xin = E.input("x", [2, 3]);
      const win = E.input("w", [2, 3], half ? "bfloat16" : "float32");
      const wv = half ? E.upcast(win, xin) : win;
      const y = E.add(E.div(xin, E.add(E.exp(wv), 1)), E.mul(E.sigmoid(wv), xin)); // [2, 3]
      const loss = E.reduceSum(E.mul(y, y), [0, 1]);
      const [dx] = E.grad(() => loss)(xin);
      return { loss, dx: dx! };
    });
  const [f, h] = [build(false), build(true)];
  const r32 = await run(f.result, f.graph, { x: { data: x, dims: [2, 3] }, w: { data: w.f32, dims: [2, 3] } });
  const r16 = await run(h.result, h.graph, { x: { data: x, dims: [2, 3] }, w: { data: w.bits, dims: [2, 3] } });
  assert.deepEqual(Array.from(r16.dx as Float32Array), Array.from(r32.dx as Float32Array));
  // The frozen weight gets no gradient graph: nothing is differentiated through the upcast's dependency.
  assert.ok(!h.graph.nodes.some((n) => n.name.startsWith("grad.") && n.op === "Upcast" && n.inputs.length === 1));
});

test("a half-precision input fed Float32 values is refused, naming the input", async () => {
  const { graph, result } = E.trace(() => ({ y: E.upcast(E.input("w", [2], "bfloat16")) }));
  const p = await E.Program.create(E.toOnnx(graph, result), { threads: 1 });
  try {
    await assert.rejects(p.run({ w: { data: new Float32Array(2), dims: [2] } }), (e: Error) => {
      assert.ok(e instanceof ShapeError);
      assert.match(e.message, /feed w has the wrong element type/);
      assert.match(e.message, /expected a Uint16Array \(bfloat16\), got a Float32Array/);
      return true;
    });
  } finally {
    await p.release();
  }
});

test("arithmetic on half-precision values is refused: they are storage only", () => {
  E.trace(() => {
    const w = E.input("w", [2, 2], "float16");
    assert.throws(() => E.add(w, w), /half precision is storage only/);
    assert.throws(() => E.matmul(w, w), /half precision is storage only/);
    assert.throws(() => E.where(E.input("c", [2, 2], "bool"), w, w), /half precision is storage only/);
    return {};
  });
});
