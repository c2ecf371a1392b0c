// `iopo export` through the real CLI: a model written as GGUF (summary JSON, a file that parses back to the model's
// weights), and bad inputs refused with the exit code, a message naming the file or flag, a HINT, no stack trace
// and no file left behind (refusals run main() in-process, which maps errors to exit codes as the binary does).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { main } from "../../src/cli/main.ts";
import { ConfigError } from "../../src/errors.ts";
import { exportGguf, readGguf } from "../../src/export/index.ts";
import { createModel, type ModelDir, paramTable, parseModelConfig, saveModelDir } from "../../src/model/index.ts";
import { runCli } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "iopo-export-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const md = join(dir, "model");
let model: ModelDir;

before(async () => {
  const text = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.\n".repeat(20);
  model = createModel([text], {
    arch: "llama",
    vocabSize: 300,
    hidden: 32,
    layers: 1,
    heads: 2,
    kvHeads: 1,
    intermediate: 64,
    seed: 1,
  });
  await saveModelDir(md, model);
});

test("iopo export writes a GGUF file whose tensors read back as the model's weights", async () => {
  const out = join(dir, "ok.gguf");
  const r = await runCli(["export", "--model-dir", md, "--to", "gguf", "--out", out, "--dtype", "f32", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { path: string; tensors: number; types: Record<string, number> };
  assert.equal(summary.path, out);
  assert.equal(summary.tensors, model.params.table.length);
  assert.deepEqual(summary.types, { f32: model.params.table.length, f16: 0, q8_0: 0 });
  const file = await readGguf(out);
  assert.equal(file.metadata.get("general.architecture")?.value, "llama");
  const embed = model.params.tensors[0]!;
  assert.deepEqual(file.tensors.get("token_embd.weight")!.shape, [300, 32]);
  assert.deepEqual(file.tensors.get("token_embd.weight")!.data, embed);
  const down = model.params.table.findIndex((row) => row.key === "model.layers.0.mlp.down_proj.weight");
  assert.deepEqual(file.tensors.get("blk.0.ffn_down.weight")!.data, model.params.tensors[down]);
  assert.deepEqual(readdirSync(dir).sort(), ["model", "ok.gguf"]);
});

/** The CLI in-process; only stderr is captured (stdout carries the test runner's reporting). */
async function iopo(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof write;
  try {
    return { code: await main(["node", "iopo", ...args]), stderr };
  } finally {
    process.stderr.write = write;
  }
}

/** Run a refused export: exit code, message patterns, no stack trace, and `out`'s folder unchanged. */
async function refused(args: string[], code: number, patterns: RegExp[], outDir = dir): Promise<void> {
  const before = readdirSync(outDir).sort();
  const r = await iopo("export", ...args);
  assert.equal(r.code, code, `exit code of ${args.join(" ")}: ${r.stderr}`);
  for (const p of patterns) assert.match(r.stderr, p);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.deepEqual(readdirSync(outDir).sort(), before, "no file left behind");
}

test("bad inputs: clear errors, right exit codes, nothing written", async () => {
  const out = join(dir, "x.gguf");
  await refused(["--model-dir", join(dir, "missing"), "--to", "gguf", "--out", out], 1, [
    /missing: model directory not found/,
    /HINT: pass --model-dir/,
  ]);
  await refused(["--model-dir", md, "--to", "onnx", "--out", out], 2, [/bad option --to: expected "gguf"/, /HINT/]);
  await refused(["--model-dir", md, "--to", "gguf", "--out", out, "--dtype", "q4_k"], 2, [
    /bad option --dtype: expected one of f32, f16, q8_0/,
  ]);
  await refused(["--model-dir", md, "--to", "gguf"], 2, [/required option '--out <file>' not specified/]);
  const outDir = join(dir, "out-is-dir");
  mkdirSync(outDir);
  await refused(
    ["--model-dir", md, "--to", "gguf", "--out", outDir],
    2,
    [/out-is-dir: output path is a directory/, /HINT: pass a file name/],
    outDir,
  );
  await refused(["--model-dir", md, "--to", "gguf", "--out", join(dir, "no", "such", "m.gguf")], 2, [
    /folder does not exist/,
  ]);
  const adapter = join(dir, "adapter");
  mkdirSync(adapter);
  writeFileSync(join(adapter, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 8 }));
  await refused(["--model-dir", adapter, "--to", "gguf", "--out", out], 2, [
    /adapter_config\.json: the adapter's base model directory is not found \[field base_model_name_or_path\]/,
    /got none\nHINT: pass the base model with --base <dir>/,
  ]);
  await refused(["--model-dir", adapter, "--base", adapter, "--to", "gguf", "--out", out], 2, [
    /the adapter's base is itself an adapter/,
  ]);
  const noTok = join(dir, "no-tokenizer");
  mkdirSync(noTok);
  writeFileSync(join(noTok, "config.json"), readFileSync(join(md, "config.json")));
  writeFileSync(join(noTok, "model.safetensors"), readFileSync(join(md, "model.safetensors")));
  await refused(["--model-dir", noTok, "--to", "gguf", "--out", out], 1, [/no tokenizer\.json/, /HINT/]);
});

test("a failed export keeps an existing output file untouched", async () => {
  const out = join(dir, "keep.gguf");
  writeFileSync(out, "previous export");
  const broken = join(dir, "broken-tokenizer");
  mkdirSync(broken);
  for (const f of ["config.json", "model.safetensors"]) writeFileSync(join(broken, f), readFileSync(join(md, f)));
  const tok = JSON.parse(readFileSync(join(md, "tokenizer.json"), "utf8"));
  tok.model.type = "WordPiece";
  writeFileSync(join(broken, "tokenizer.json"), JSON.stringify(tok));
  await refused(["--model-dir", broken, "--to", "gguf", "--out", out], 2, [
    /tokenizer\.json: tokenizer model is not BPE \[field model\.type\]/,
  ]);
  assert.equal(readFileSync(out, "utf8"), "previous export");
});

test("a tokenizer with more ids than the model's vocabulary is refused before writing", async () => {
  // Cut the model to 290 ids: weights and config agree, the tokenizer (300 ids) does not.
  const config = parseModelConfig({ ...model.config, vocab_size: 290 });
  const table = paramTable(config);
  const tensors = model.params.tensors.map((t, i) =>
    t.slice(
      0,
      table[i]!.shape.reduce((a, b) => a * b, 1),
    ),
  );
  const cut = join(dir, "cut");
  await saveModelDir(cut, { config, params: { table, tensors }, files: model.files });
  const out = join(dir, "cut.gguf");
  await assert.rejects(exportGguf(cut, out), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(
      err.message,
      /tokenizer is larger than the model's vocabulary.*expected token ids below config\.json vocab_size 290, got id 29\d/,
    );
    assert.match(err.message, /HINT: the tokenizer does not belong to this model/);
    return true;
  });
  assert.ok(!readdirSync(dir).includes("cut.gguf"));
});
