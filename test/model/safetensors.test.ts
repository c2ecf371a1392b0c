import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CheckpointError } from "../../src/errors.ts";
import { encodeHeader, f16ToF32, openSafetensors, readSafetensors, writeSafetensors } from "../../src/model/index.ts";

const dir = await mkdtemp(join(tmpdir(), "iopo-st-"));
after(() => rm(dir, { recursive: true, force: true }));
const GOLDEN = new URL("../fixtures/golden/", import.meta.url);

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
