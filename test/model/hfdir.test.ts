import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { CheckpointError } from "../../src/errors.ts";
import {
  decodeToF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  getParam,
  loadModelConfig,
  loadModelDir,
  readSafetensors,
  saveModelDir,
  writeSafetensors,
} from "../../src/model/index.ts";

const GOLDEN = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));
const dir = await mkdtemp(join(tmpdir(), "iopo-hf-"));
after(() => rm(dir, { recursive: true, force: true }));
/** One 16-bit pattern as little-endian bytes. */
const u16 = (bits: number) => Uint8Array.of(bits & 0xff, bits >>> 8);

test("a golden PyTorch model directory loads, saves and loads back identically", async () => {
  const model = await loadModelDir(join(GOLDEN, "llama-tiny/policy"));
  assert.equal(model.config.model_type, "llama");
  assert.deepEqual(getParam(model.params, "lm_head.weight").length, 80 * 48);
  const out = join(dir, "copy");
  const files = { "tokenizer_config.json": { eos_token: "<e>" }, "generation_config.json": { eos_token_id: 1 } };
  await saveModelDir(out, { ...model, files });
  const back = await loadModelDir(out);
  assert.deepEqual(back.params.tensors, model.params.tensors);
  assert.deepEqual(back.config, model.config);
  assert.deepEqual(back.files, files);
  // Same tensor bytes as the PyTorch writer (the header is identical too: same order, same metadata).
  assert.deepEqual(
    await readFile(join(out, "model.safetensors")),
    await readFile(join(GOLDEN, "llama-tiny/policy/model.safetensors")),
  );
});

test("saving over an existing directory replaces it and leaves no temporary siblings", async () => {
  const model = await loadModelDir(join(GOLDEN, "qwen2-tiny/reference"));
  const out = join(dir, "over");
  await saveModelDir(out, { ...model, files: { "tokenizer.json": { a: 1 } } });
  await saveModelDir(out, { ...model, files: {} });
  assert.deepEqual((await readdir(out)).sort(), ["config.json", "model.safetensors"]);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith(".")),
    [],
  );
});

test("a failed save leaves the previous directory untouched", async () => {
  const model = await loadModelDir(join(GOLDEN, "qwen2-tiny/reference"));
  const out = join(dir, "keep");
  await saveModelDir(out, { ...model, files: {} });
  const before = await readFile(join(out, "model.safetensors"));
  const broken = { ...model, params: { table: model.params.table, tensors: [new Float32Array(1)] } };
  await assert.rejects(saveModelDir(out, broken), CheckpointError);
  assert.deepEqual(await readFile(join(out, "model.safetensors")), before);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith(".")),
    [],
  );
});

test("errors name the directory or file: no weights, bad config, mismatched weights", async () => {
  const empty = join(dir, "empty");
  await saveModelDir(empty, { ...(await loadModelDir(join(GOLDEN, "qwen2-tiny/reference"))), files: {} });
  await rm(join(empty, "model.safetensors"));
  await assert.rejects(loadModelDir(empty), /no weights in model directory/);
  await writeFile(join(empty, "config.json"), "{not json");
  await assert.rejects(
    loadModelConfig(empty),
    (err: unknown) => err instanceof CheckpointError && err.message.includes("empty/config.json"),
  );
  // The llama config with the qwen2 weights: keys do not match.
  const mixed = join(dir, "mixed");
  await saveModelDir(mixed, { ...(await loadModelDir(join(GOLDEN, "qwen2-tiny/reference"))), files: {} });
  await writeFile(join(mixed, "config.json"), await readFile(join(GOLDEN, "llama-tiny/reference/config.json")));
  await assert.rejects(loadModelDir(mixed), /mixed\/model\.safetensors: parameter keys do not match/);
});

test("sharded weights (model.safetensors.index.json) load", async () => {
  const model = await loadModelDir(join(GOLDEN, "qwen2-tiny/reference"));
  const out = join(dir, "sharded");
  await saveModelDir(out, { ...model, files: {} });
  await rm(join(out, "model.safetensors"));
  const half = Math.floor(model.params.table.length / 2);
  const rows = model.params.table.map((r, i) => ({ name: r.key, shape: r.shape, data: model.params.tensors[i]! }));
  await writeSafetensors(join(out, "model-00001-of-00002.safetensors"), rows.slice(0, half));
  await writeSafetensors(join(out, "model-00002-of-00002.safetensors"), rows.slice(half));
  const weight_map = Object.fromEntries(
    rows.map((r, i) => [r.name, `model-0000${i < half ? 1 : 2}-of-00002.safetensors`]),
  );
  await writeFile(join(out, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map }));
  assert.deepEqual((await loadModelDir(out)).params.tensors, model.params.tensors);
});

test("weights are written in the dtype config.json names (bfloat16, float16), rounded to nearest even", async () => {
  const model = await loadModelDir(join(GOLDEN, "qwen2-tiny/policy"));
  for (const [torchDtype, st, cast] of [
    ["bfloat16", "BF16", (v: number) => decodeToF32(u16(f32ToBf16(v)), "BF16", 1)[0]!],
    ["float16", "F16", (v: number) => f16ToF32(f32ToF16(v))],
  ] as const) {
    const out = join(dir, `half-${torchDtype}`);
    await saveModelDir(out, { ...model, config: { ...model.config, torch_dtype: torchDtype }, files: {} });
    const { tensors } = await readSafetensors(join(out, "model.safetensors"));
    assert.ok([...tensors.values()].every((t) => t.dtype === st));
    const back = await loadModelDir(out);
    assert.equal(back.config.torch_dtype, torchDtype);
    for (const [i, t] of model.params.tensors.entries())
      assert.deepEqual(back.params.tensors[i], Float32Array.from(t, cast), model.params.table[i]!.key);
    // About half the bytes of the F32 file (the header is the same size).
    const bytes = (await stat(join(out, "model.safetensors"))).size;
    const f32 = (await stat(join(GOLDEN, "qwen2-tiny/policy/model.safetensors"))).size;
    assert.ok(bytes < 0.55 * f32, `${bytes} vs ${f32}`);
  }
  // An explicit dtype wins and config.json is rewritten to say what the file holds.
  const exact = join(dir, "exact");
  await saveModelDir(
    exact,
    { ...model, config: { ...model.config, torch_dtype: "bfloat16" }, files: {} },
    { dtype: "F32" },
  );
  const back = await loadModelDir(exact);
  assert.equal(back.config.torch_dtype, "float32");
  assert.deepEqual(back.params.tensors, model.params.tensors);
});
