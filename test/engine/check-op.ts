// The shared op-test helper: checkOp(specs, fn) builds fn over float64 inputs, takes its VJP with a random
// cotangent, runs everything in ONNX Runtime and compares <vjp(w), u> with a central finite difference of
// <w, f(x)> along one random direction u. Optionally compares the forward values with a JS reference.

import assert from "node:assert/strict";
import * as E from "../../src/engine/index.ts";

export interface InputSpec {
  readonly shape: readonly number[];
  /** "float" (default, differentiated), "positive" (float in [0.5, 1.5]), or fixed int64 indices. */
  readonly kind?: "float" | "positive";
  readonly int64?: readonly number[];
  readonly bool?: readonly boolean[];
}

export interface CheckOptions {
  readonly dtype?: "float64" | "float32";
  readonly eps?: number;
  readonly rtol?: number;
  readonly seed?: number;
  /** Reference forward: inputs as number arrays → output values (row-major). */
  readonly reference?: (xs: number[][]) => number[];
  /** Return the two derivatives without asserting (for tests of deliberate mismatches). */
  readonly noAssert?: boolean;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Returns the analytic and numeric directional derivatives (also asserts they agree). */
export async function checkOp(
  specs: readonly (InputSpec | readonly number[])[],
  fn: (...xs: E.Node[]) => E.Node,
  opts: CheckOptions = {},
): Promise<{ analytic: number; numeric: number }> {
  const dtype = opts.dtype ?? "float64";
  const make = (n: number, f: (i: number) => number): Float64Array | Float32Array => {
    const a = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = f(i);
    return a;
  };
  const eps = opts.eps ?? (dtype === "float64" ? 1e-6 : 1e-2);
  const rtol = opts.rtol ?? (dtype === "float64" ? 1e-6 : 2e-2);
  const rand = rng(opts.seed ?? 1234);
  const full = specs.map((s) => ("shape" in s ? s : { shape: s as readonly number[] }));

  const { graph, result } = E.trace(() => {
    const xs = full.map((s, i) => E.input(`x${i}`, s.shape, s.int64 ? "int64" : s.bool ? "bool" : dtype));
    const out = fn(...xs);
    const w = E.input("w", out.shape, dtype);
    const flat = E.reshape(E.mul(out, w), [-1]);
    const loss = E.reduceSum(flat, [0]);
    const floats = xs.filter((_, i) => !full[i].int64 && !full[i].bool);
    const grads = E.grad(() => loss)(...floats);
    return { out, loss, grads, outShape: out.shape as number[] };
  });
  const outputs: Record<string, E.Node> = { out: result.out, loss: result.loss };
  for (const [i, g] of result.grads.entries()) outputs[`g${i}`] = g;
  const program = await E.Program.create(E.toOnnx(graph, outputs), { threads: 1 });

  const values = full.map((s) =>
    s.int64
      ? BigInt64Array.from(s.int64, (v) => BigInt(v))
      : s.bool
        ? Uint8Array.from(s.bool, (b) => (b ? 1 : 0))
        : make(size(s.shape), () => (s.kind === "positive" ? 0.5 + rand() : rand() * 2 - 1)),
  );
  const floatIdx = full.map((s, i) => (!s.int64 && !s.bool ? i : -1)).filter((i) => i >= 0);
  const dirs = floatIdx.map((i) => make(size(full[i].shape), () => rand() * 2 - 1));
  const w = make(size(result.outShape), () => rand() * 2 - 1);
  const feeds = (shift: number) => {
    const f: Record<string, E.Feed> = { w: { data: w, dims: result.outShape } };
    full.forEach((s, i) => {
      let data = values[i];
      const k = floatIdx.indexOf(i);
      if (k >= 0 && shift !== 0) data = (data as Float64Array).map((v, j) => v + shift * dirs[k][j]) as typeof data;
      f[`x${i}`] = { data, dims: s.shape };
    });
    return f;
  };
  const base = await program.run(feeds(0));
  if (opts.reference) {
    const want = opts.reference(values.map((v) => Array.from(v as Float64Array, Number)));
    const got = Array.from(base.out as Float64Array);
    assert.equal(got.length, want.length, "reference length");
    for (const [j, g] of got.entries())
      assert.ok(Math.abs(g - want[j]) <= 1e-5 * (1 + Math.abs(want[j])), `forward[${j}]: got ${g}, want ${want[j]}`);
  }
  let analytic = 0;
  floatIdx.forEach((_, k) => {
    const g = base[`g${k}`] as Float64Array;
    for (let j = 0; j < g.length; j++) analytic += g[j] * dirs[k][j];
  });
  const plus = (await program.run(feeds(eps))).loss[0] as number;
  const minus = (await program.run(feeds(-eps))).loss[0] as number;
  const numeric = (plus - minus) / (2 * eps);
  await program.release();
  if (opts.noAssert) return { analytic, numeric };
  const err = Math.abs(analytic - numeric);
  assert.ok(
    err <= rtol * Math.max(1, Math.abs(numeric)),
    `VJP mismatch: analytic ${analytic}, numeric ${numeric} (|diff| ${err})`,
  );
  return { analytic, numeric };
}
