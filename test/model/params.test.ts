import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CheckpointError } from "../../src/errors.ts";
import {
  countParams,
  type LoadedTensor,
  numel,
  paramsFromTensors,
  paramTable,
  parseModelConfig,
  readSafetensors,
} from "../../src/model/index.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url);
const loadCfg = async (name: string) =>
  parseModelConfig(JSON.parse(await readFile(new URL(`${name}/reference/config.json`, GOLDEN), "utf8")));

test("the table lists HF keys in forward order with shapes, transpose and decay flags", async () => {
  const table = paramTable(await loadCfg("qwen2-tiny"));
  assert.equal(table.length, 1 + 2 * 12 + 1);
  assert.deepEqual(
    table.slice(0, 4).map((r) => [r.key, r.shape, r.transpose, r.decay, r.init]),
    [
      ["model.embed_tokens.weight", [64, 32], false, true, "normal"],
      ["model.layers.0.input_layernorm.weight", [32], false, false, "ones"],
      ["model.layers.0.self_attn.q_proj.weight", [32, 32], true, true, "normal"],
      ["model.layers.0.self_attn.q_proj.bias", [32], false, false, "zeros"],
    ],
  );
  const k = table.find((r) => r.key === "model.layers.1.self_attn.k_proj.weight")!;
  assert.deepEqual([k.shape, k.layer], [[16, 32], 1]);
  assert.equal(table.at(-1)!.key, "model.norm.weight"); // tied: no lm_head
  for (const row of table) assert.equal(row.decay, row.shape.length >= 2, row.key);
  const llama = paramTable(await loadCfg("llama-tiny"));
  assert.equal(llama.at(-1)!.key, "lm_head.weight");
  assert.equal(
    llama.some((r) => r.key.endsWith(".bias")),
    false,
  );
  assert.equal(
    countParams(llama),
    llama.reduce((n, r) => n + numel(r.shape), 0),
  );
});

test("the table matches the PyTorch-written golden files key for key and shape for shape", async () => {
  for (const name of ["qwen2-tiny", "llama-tiny"]) {
    const path = fileURLToPath(new URL(`${name}/policy/model.safetensors`, GOLDEN));
    const { tensors } = await readSafetensors(path);
    const params = paramsFromTensors(paramTable(await loadCfg(name)), tensors, path);
    assert.equal(params.tensors.length, tensors.size);
    assert.deepEqual(
      params.table.map((r) => r.key),
      [...tensors.keys()],
    );
  }
});

function fake(table: ReturnType<typeof paramTable>): Map<string, LoadedTensor> {
  return new Map(table.map((r) => [r.key, { shape: r.shape, data: new Float32Array(numel(r.shape)) }]));
}

test("loading fails with missing and unexpected keys listed by name", async () => {
  const table = paramTable(await loadCfg("llama-tiny"));
  const loaded = fake(table);
  loaded.delete("model.layers.1.mlp.up_proj.weight");
  loaded.delete("lm_head.weight");
  loaded.set("model.layers.2.mlp.up_proj.weight", { shape: [1], data: new Float32Array(1) });
  assert.throws(
    () => paramsFromTensors(table, loaded, "x.safetensors"),
    (err: unknown) => {
      assert.ok(err instanceof CheckpointError);
      assert.match(err.message, /^x\.safetensors: parameter keys do not match/);
      assert.match(err.message, /missing: model\.layers\.1\.mlp\.up_proj\.weight, lm_head\.weight/);
      assert.match(err.message, /unexpected: model\.layers\.2\.mlp\.up_proj\.weight/);
      assert.match(err.message, /HINT: /);
      return true;
    },
  );
});

test("loading fails naming every mismatched shape", async () => {
  const table = paramTable(await loadCfg("qwen2-tiny"));
  const loaded = fake(table);
  loaded.set("model.layers.0.self_attn.k_proj.weight", { shape: [32, 32], data: new Float32Array(1024) });
  loaded.set("model.norm.weight", { shape: [1, 32], data: new Float32Array(32) });
  assert.throws(
    () => paramsFromTensors(table, loaded, "y"),
    (err: unknown) => {
      assert.ok(err instanceof CheckpointError);
      assert.match(
        err.message,
        /2 mismatched: model\.layers\.0\.self_attn\.k_proj\.weight \[32, 32\] \(expected \[16, 32\]\)/,
      );
      assert.match(err.message, /model\.norm\.weight \[1, 32\] \(expected \[32\]\)/);
      return true;
    },
  );
});

test("a redundant lm_head.weight in a tied model's file is accepted and ignored", async () => {
  const table = paramTable(await loadCfg("qwen2-tiny"));
  const loaded = fake(table);
  loaded.set("lm_head.weight", { shape: [64, 32], data: new Float32Array(64 * 32) });
  assert.equal(paramsFromTensors(table, loaded, "z").tensors.length, table.length);
});
