import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CheckpointError } from "../../src/errors.ts";
import {
  encodeHeader,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  makeRng,
  openSafetensors,
  readSafetensors,
  writeSafetensors,
} from "../../src/model/index.ts";

const dir = await mkdtemp(join(tmpdir(), "iopo-st-"));
after(() => rm(dir, { recursive: true, force: true }));
const GOLDEN = new URL("../fixtures/golden/", import.meta.url);
const CAST = fileURLToPath(new URL("../../scripts/golden/cast_reference.py", import.meta.url));

/** A safetensors file from a header object and raw data bytes, laid out by hand. */
function handMade(header: object, data: number[], pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json += " ".repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  out.set(data, 8 + json.length);
  return out;
}

test("F32 round trip keeps names, shapes, values, order and metadata", async () => {
  const path = join(dir, "rt.safetensors");
  const a = Float32Array.from([1, -2.5, 3.25, 1e-30, -0, 65504, 3.4e38]);
  const b = Float32Array.from({ length: 6 }, (_, i) => i / 7);
  await writeSafetensors(
    path,
    [
      { name: "z.weight", shape: [7], data: a },
      { name: "a.weight", shape: [2, 3], data: b },
    ],
    { format: "pt", note: "x" },
  );
  const back = await readSafetensors(path);
  assert.deepEqual(back.metadata, { format: "pt", note: "x" });
  assert.deepEqual([...back.tensors.keys()], ["z.weight", "a.weight"]);
  assert.deepEqual(back.tensors.get("a.weight")!.shape, [2, 3]);
  assert.deepEqual(back.tensors.get("z.weight")!.data, a);
  assert.deepEqual(back.tensors.get("a.weight")!.data, b);
});

test("header is space-padded so the data starts 8-byte aligned, as HF writes it", async () => {
  for (const name of ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"]) {
    const h = encodeHeader([{ name, shape: [1], data: new Float32Array(1) }]);
    const n = Number(new DataView(h.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0, name);
    assert.equal(h.length, 8 + n);
    const text = new TextDecoder().decode(h.subarray(8));
    assert.match(text, /^\{.*\} *$/);
    assert.deepEqual(JSON.parse(text)[name], { dtype: "F32", shape: [1], data_offsets: [0, 4] });
  }
});

test("writing the PyTorch-written golden tensors back gives the identical file, byte for byte", async () => {
  const src = new URL("qwen2-tiny/reference/model.safetensors", GOLDEN);
  const original = new Uint8Array(await readFile(src));
  const { metadata, tensors } = await readSafetensors(fileURLToPath(src));
  const path = join(dir, "copy.safetensors");
  await writeSafetensors(
    path,
    [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
    metadata,
  );
  assert.deepEqual(new Uint8Array(await readFile(path)), original);
});

test("BF16 and F16 decode to the hand-computed Float32 values", async () => {
  // BF16: 1.0, -2.0, 1.5, +inf, 0.1 (0x3DCD → 0.10009765625); F16: 1, -2, 1/3 rounded, smallest subnormal, max, -inf.
  const bf16 = [0x3f80, 0xc000, 0x3fc0, 0x7f80, 0x3dcd];
  const f16 = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0xfc00];
  const bytes = [...bf16, ...f16].flatMap((u) => [u & 0xff, u >> 8]);
  const header = {
    __metadata__: { format: "pt" },
    bf: { dtype: "BF16", shape: [5], data_offsets: [0, 10] },
    hf: { dtype: "F16", shape: [2, 3], data_offsets: [10, 22] },
  };
  const path = join(dir, "half.safetensors");
  await writeFile(path, handMade(header, bytes));
  const { tensors } = await readSafetensors(path);
  assert.deepEqual([...tensors.get("bf")!.data], [1, -2, 1.5, Number.POSITIVE_INFINITY, 0.10009765625]);
  assert.deepEqual(tensors.get("hf")!.shape, [2, 3]);
  assert.deepEqual([...tensors.get("hf")!.data], [1, -2, 0.333251953125, 2 ** -24, 65504, Number.NEGATIVE_INFINITY]);
  assert.ok(Number.isNaN(f16ToF32(0x7e00)));
  assert.equal(f16ToF32(0x8000), -0);
});

test("an unpadded header (other writers) still reads", async () => {
  const path = join(dir, "unpadded.safetensors");
  const data = [...new Uint8Array(Float32Array.from([0.5, 2]).buffer)];
  await writeFile(path, handMade({ t: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, data, false));
  assert.deepEqual([...(await readSafetensors(path)).tensors.get("t")!.data], [0.5, 2]);
});

test("bad files fail with a CheckpointError naming the file", async () => {
  const cases: [string, Uint8Array][] = [
    ["short", new Uint8Array(4)],
    ["dtype", handMade({ t: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0))],
    ["size", handMade({ t: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0))],
    ["truncated", handMade({ t: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Array(8).fill(0))],
    ["gap", handMade({ t: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Array(8).fill(0))],
    ["json", handMade({}, []).map((b, i) => (i === 8 ? 0x5b : b))],
  ];
  for (const [name, bytes] of cases) {
    const path = join(dir, `bad-${name}.safetensors`);
    await writeFile(path, bytes);
    await assert.rejects(readSafetensors(path), (err: unknown) => {
      assert.ok(err instanceof CheckpointError, name);
      assert.ok(err.message.includes(path), `${name}: ${err.message}`);
      return true;
    });
  }
  await assert.rejects(openSafetensors(join(dir, "missing.safetensors")), CheckpointError);
});

test("shape/data mismatch and duplicate names are refused on write", async () => {
  const path = join(dir, "w.safetensors");
  await assert.rejects(writeSafetensors(path, [{ name: "t", shape: [3], data: new Float32Array(2) }]), CheckpointError);
  const t = { name: "t", shape: [1], data: new Float32Array(1) };
  await assert.rejects(writeSafetensors(path, [t, t]), /duplicate/);
});

test("F32 → F16 / BF16: round to nearest even, hand-computed patterns", () => {
  const cases: [number, number, number][] = [
    // value, f16 bits, bf16 bits
    [1, 0x3c00, 0x3f80],
    [-2, 0xc000, 0xc000],
    [0, 0x0000, 0x0000],
    [-0, 0x8000, 0x8000],
    [65504, 0x7bff, 0x477f + 1], // largest half; bf16 0x47800000 rounds up from 0x477fe000
    [65519, 0x7bff, 0x4780], // just under the half-way point to 65536 stays finite in f16
    [65520, 0x7c00, 0x4780], // the half-way point rounds to even: infinity
    [2 ** -24, 0x0001, 0x3380], // smallest half subnormal
    [2 ** -25, 0x0000, 0x3300], // half of it: a tie, to even (zero)
    [3 * 2 ** -25, 0x0002, 0x33c0], // 1.5 × smallest: a tie, to even (2)
    [2 ** -14, 0x0400, 0x3880], // smallest normal half
    [1 + 2 ** -11, 0x3c00, 0x3f80], // tie between 1 and 1 + 2^-10: to even (1)
    [1 + 3 * 2 ** -11, 0x3c02, 0x3f80], // tie between 1 + 2^-10 and 1 + 2^-9: to even (up)
    [1 + 2 ** -8, 0x3c04, 0x3f80], // bf16 tie between 1 and 1 + 2^-7: to even (1)
    [1 + 3 * 2 ** -8, 0x3c0c, 0x3f82], // bf16 tie, to even (up)
    [Number.POSITIVE_INFINITY, 0x7c00, 0x7f80],
    [Number.NEGATIVE_INFINITY, 0xfc00, 0xff80],
    [3.4e38, 0x7c00, 0x7f80], // rounds past bf16's largest finite value
  ];
  for (const [v, h, b] of cases) {
    assert.equal(f32ToF16(v).toString(16), h.toString(16), `f16 of ${v}`);
    assert.equal(f32ToBf16(v).toString(16), b.toString(16), `bf16 of ${v}`);
  }
  assert.ok(Number.isNaN(f16ToF32(f32ToF16(Number.NaN))));
  assert.equal(f32ToBf16(Number.NaN) & 0x7fc0, 0x7fc0);
});

test("F32 → F16 / BF16 bit patterns equal PyTorch's casts on 20,000 values across every range", () => {
  const rand = makeRng(9);
  const bits: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    // Random float32 bit patterns over all exponents (NaNs excluded: their payloads are not specified).
    let b = Math.floor(rand() * 2 ** 32) >>> 0;
    if (i % 4 === 0) b = (b & 0x80000000) | ((0x60 + (i % 0x30)) << 23) | (b & 0x7fffff); // near the half range
    if (i % 8 === 1) b = (b & 0xffff8000) | 0x8000; // exact bf16 ties
    if (i % 8 === 3) b = (b & 0xffffe000) | 0x1000; // exact f16 ties (normal range)
    if (((b >>> 23) & 0xff) === 0xff && b & 0x7fffff) continue;
    bits.push(b >>> 0);
  }
  const r = spawnSync("/usr/bin/python3", [CAST], { input: JSON.stringify(bits), maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `cast_reference.py failed: ${r.stderr}\nHINT: apt-get install -y python3-torch`);
  const torch = JSON.parse(r.stdout.toString()) as { f16: number[]; bf16: number[] };
  const u = new Uint32Array(1);
  const f = new Float32Array(u.buffer);
  let bad = 0;
  for (const [i, b] of bits.entries()) {
    u[0] = b;
    if (f32ToF16(f[0]!) !== torch.f16[i] || f32ToBf16(f[0]!) !== torch.bf16[i]) bad++;
  }
  assert.equal(bad, 0, `${bad} of ${bits.length} patterns differ from torch`);
});
