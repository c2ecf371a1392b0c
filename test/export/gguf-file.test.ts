// The hand-written GGUF pieces against hand-computed values: f16 rounding, Q8_0 blocks (scale, round half away from
// zero, f16-rounded scale on the way back), the q/k row permutation, the byte layout of a tiny file, a read-back
// of every metadata kind, and atomic writes (a failed write leaves no file and keeps an old one).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ConfigError } from "../../src/errors.ts";
import {
  dequantizeQ8_0,
  f32ToF16,
  type GgufValue,
  permuteRope,
  quantizeQ8_0,
  readGguf,
  writeGguf,
} from "../../src/export/index.ts";

const dir = mkdtempSync(join(tmpdir(), "iopo-gguf-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("f32 → f16: exact values, ties to even, overflow, subnormals, NaN", () => {
  const cases: [number, number][] = [
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest f16
    [65519, 0x7bff], // below the midpoint to 65536 → stays
    [65520, 0x7c00], // the midpoint rounds to even → inf
    [1 / 3, 0x3555],
    [1 + 2 ** -11, 0x3c00], // exactly half an ulp above 1: tie → even (1.0)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02 → even
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // half of it: tie → even (0)
    [3 * 2 ** -25, 0x0002], // 1.5 × smallest: tie → even (2)
    [2 ** -14, 0x0400], // smallest normal
    [-0, 0x8000],
    [Number.POSITIVE_INFINITY, 0x7c00],
  ];
  for (const [x, bits] of cases) assert.equal(f32ToF16(x), bits, `f16(${x})`);
  assert.equal(f32ToF16(Number.NaN) & 0x7c00, 0x7c00);
  assert.notEqual(f32ToF16(Number.NaN) & 0x3ff, 0);
});

/** One Q8_0 block of 32 from the first values, zero-padded. */
const block = (xs: number[]) => Float32Array.from({ length: 32 }, (_, j) => xs[j] ?? 0);

test("Q8_0 blocks equal the quantisation rule computed by hand", () => {
  // Block 1: amax 127 → d = 1, so q = round(x) half away from zero (2.5 → 3, −0.5 → −1; banker's gives 2, 0).
  // Block 2: amax 63.5 → d = 0.5, q = round(2x). Block 3: all zero → d = 0, q = 0.
  // Block 4: amax 1 → d = 1/127, which f16 stores as 0x2008 = 2^-7·(1 + 8/1024) = 0.00787353515625; q = round(127x).
  const x = new Float32Array(128);
  x.set(block([127, -127, 2.5, -2.5, 0.5, -0.5, 1.49, -1.51, 100.2]), 0);
  x.set(block([63.5, -10.25, 3.3, 0.25, -0.25, 0.2]), 32);
  x.set(block([1, 0.3, -0.25]), 96);
  const bytes = quantizeQ8_0(x);
  assert.equal(bytes.length, 4 * 34);
  const scale = (b: number) => bytes.readUInt16LE(b * 34);
  const qs = (b: number, n: number) => Array.from({ length: n }, (_, j) => bytes.readInt8(b * 34 + 2 + j));
  assert.deepEqual([scale(0), scale(1), scale(2), scale(3)], [0x3c00, 0x3800, 0x0000, 0x2008]);
  assert.deepEqual(qs(0, 10), [127, -127, 3, -3, 1, -1, 1, -2, 100, 0]);
  assert.deepEqual(qs(1, 7), [127, -21, 7, 1, -1, 0, 0]);
  assert.deepEqual(qs(2, 32), new Array(32).fill(0));
  assert.deepEqual(qs(3, 4), [127, 38, -32, 0]);
  const back = dequantizeQ8_0(bytes);
  assert.deepEqual([...back.subarray(0, 9)], [127, -127, 3, -3, 1, -1, 1, -2, 100]);
  assert.deepEqual([...back.subarray(32, 38)], [63.5, -10.5, 3.5, 0.5, -0.5, 0]);
  assert.ok(back.subarray(64, 96).every((v) => v === 0));
  const d = 0.00787353515625;
  assert.deepEqual([...back.subarray(96, 99)], [127 * d, 38 * d, -32 * d].map(Math.fround));
});

test("q/k rows go from HF's half-split RoPE layout to llama.cpp's interleaved pairs, per head", () => {
  // 2 heads of D = 4, one column: head rows [a0 a1 | b0 b1] become [a0 b0 a1 b1].
  assert.deepEqual([...permuteRope(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 2, 1)], [0, 2, 1, 3, 4, 6, 5, 7]);
  // Two columns: whole rows move.
  const w = Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
  assert.deepEqual([...permuteRope(w, 1, 2)], [0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
});

test("a tiny file has the GGUF v3 byte layout: header, metadata, tensor info with reversed dims, aligned data", async () => {
  const path = join(dir, "tiny.gguf");
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const meta = new Map<string, GgufValue>([["general.architecture", { kind: "string", value: "llama" }]]);
  const { bytes } = await writeGguf(path, meta, [{ name: "w", shape: [2, 3], dtype: "f32", data }]);
  const b = readFileSync(path);
  assert.equal(b.length, bytes);
  let p = 0;
  const u32 = () => {
    p += 4;
    return b.readUInt32LE(p - 4);
  };
  const u64 = () => {
    p += 8;
    return Number(b.readBigUInt64LE(p - 8));
  };
  const str = () => {
    const n = u64();
    p += n;
    return b.toString("utf8", p - n, p);
  };
  assert.equal(b.toString("latin1", 0, 4), "GGUF");
  p = 4;
  assert.deepEqual([u32(), u64(), u64()], [3, 1, 1]); // version, tensors, metadata entries
  assert.deepEqual([str(), u32(), str()], ["general.architecture", 8, "llama"]); // 8 = string
  assert.deepEqual([str(), u32(), u64(), u64(), u32(), u64()], ["w", 2, 3, 2, 0, 0]); // ne = [3, 2], F32, offset 0
  const start = Math.ceil(p / 32) * 32;
  assert.ok(
    b.subarray(p, start).every((x) => x === 0),
    "padding is zeros",
  );
  assert.deepEqual(
    [...new Float32Array(b.buffer.slice(b.byteOffset + start, b.byteOffset + start + 24))],
    [1, 2, 3, 4, 5, 6],
  );
});

test("every metadata kind and tensor type reads back", async () => {
  const path = join(dir, "all.gguf");
  const meta = new Map<string, GgufValue>([
    ["a.u32", { kind: "u32", value: 4294967295 }],
    ["a.i32", { kind: "i32", value: -7 }],
    ["a.f32", { kind: "f32", value: 0.25 }],
    ["a.bool", { kind: "bool", value: true }],
    ["a.string", { kind: "string", value: "héllo {{ x }}\n" }],
    ["a.u64", { kind: "u64", value: 2 ** 40 }],
    ["a.strings", { kind: "array", of: "string", value: ["Ġthe", "<|im_end|>", ""] }],
    ["a.ints", { kind: "array", of: "i32", value: [1, 3, -5] }],
  ]);
  const x = Float32Array.from({ length: 64 }, (_, i) => (i - 30) / 8);
  await writeGguf(path, meta, [
    { name: "f32", shape: [64], dtype: "f32", data: x },
    { name: "f16", shape: [2, 32], dtype: "f16", data: x },
    { name: "q8", shape: [2, 32], dtype: "q8_0", data: x },
  ]);
  const file = await readGguf(path);
  assert.equal(file.version, 3);
  assert.deepEqual(file.metadata, meta);
  assert.deepEqual([...file.tensors.get("f32")!.data], [...x]);
  assert.deepEqual([...file.tensors.get("f16")!.data], [...x], "multiples of 1/8 are exact in f16");
  assert.deepEqual(file.tensors.get("q8")!.shape, [2, 32]);
  assert.deepEqual([...file.tensors.get("q8")!.data], [...dequantizeQ8_0(quantizeQ8_0(x))]);
});

test("writes are atomic: a failed write leaves no file and keeps the old one; a directory is refused", async () => {
  const sub = join(dir, "atomic");
  mkdirSync(sub);
  const path = join(sub, "model.gguf");
  writeFileSync(path, "old");
  const bad = { name: "blk.0.ffn_down.weight", shape: [1, 48], dtype: "q8_0" as const, data: new Float32Array(48) };
  await assert.rejects(writeGguf(path, new Map(), [bad]), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(
      err.message,
      /not whole Q8_0 blocks \[field blk\.0\.ffn_down\.weight\]; expected a row length that is a multiple of 32, got 48/,
    );
    return true;
  });
  assert.deepEqual(readdirSync(sub), ["model.gguf"]);
  assert.equal(readFileSync(path, "utf8"), "old");
  await assert.rejects(
    writeGguf(sub, new Map(), []),
    /output path is a directory; expected a file path[\s\S]*HINT: pass a file name/,
  );
  await assert.rejects(
    writeGguf(join(dir, "nope", "m.gguf"), new Map(), []),
    /folder does not exist[\s\S]*HINT: create it first/,
  );
  assert.deepEqual(readdirSync(sub), ["model.gguf"]);
});
