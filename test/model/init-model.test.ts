import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { main } from "../../src/cli/main.ts";
import { countParams, loadModelDir, loadTokenizer, modelDims } from "../../src/model/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = await mkdtemp(join(tmpdir(), "iopo-init-"));
after(() => rm(dir, { recursive: true, force: true }));
const corpus = join(dir, "corpus.txt");
await writeFile(corpus, await readFile(new URL("../../../shared/DESIGN.md", import.meta.url), "utf8"));

/** The real CLI in a child process (slow: ~1–2 s of tsx start-up each). */
async function iopoChild(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)("node", ["bin/iopo.js", ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * The same CLI in-process: main() maps errors to exit codes exactly as the binary does. Only stderr is captured
 * (stdout carries the test runner's own reporting); commands run here use --json so stdout stays one line.
 */
async function iopo(...args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof write;
  try {
    return { code: await main(["node", "iopo", ...args, "--json"]), stderr };
  } finally {
    process.stderr.write = write;
  }
}

test("init-model writes an HF directory that loads back, with a working tokenizer and chat template", async () => {
  const out = join(dir, "m");
  const flags = ["--vocab-size", "400", "--hidden", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2"];
  const run = await iopoChild(
    "init-model",
    "--out",
    out,
    "--vocab-from",
    corpus,
    "--arch",
    "llama",
    ...flags,
    "--json",
  );
  assert.equal(run.code, 0, run.stderr);
  const summary = JSON.parse(run.stdout);
  const model = await loadModelDir(out);
  assert.deepEqual(model.config.architectures, ["LlamaForCausalLM"]);
  assert.equal(summary.parameters, countParams(model.params.table));
  const d = modelDims(model.config);
  assert.deepEqual([d.V, d.C, d.L, d.H, d.Hkv, d.I, d.tied, d.qkvBias], [400, 32, 2, 4, 2, 176, false, false]);
  assert.ok(model.files["tokenizer.json"] && model.files["generation_config.json"]);

  const tok = await loadTokenizer(out);
  assert.equal(tok.vocabSize, model.config.vocab_size);
  assert.equal(tok.specialId("eos"), model.config.eos_token_id);
  assert.equal(tok.specialId("pad"), model.config.pad_token_id);
  const text = "IOPO learns input preferences — and ünïcode 中文 too.\n";
  assert.equal(tok.decode(tok.encode(text)), text);
  const chat = tok.encodeChat([{ role: "user", content: "Hi" }], { addGenerationPrompt: true });
  assert.equal(chat[0], tok.tokenToId("<|im_start|>"));
  assert.equal(tok.decode(chat), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");

  // Same seed, same model; a different seed changes the weights but not the tokenizer.
  const again = join(dir, "m2");
  assert.equal((await iopo("init-model", "--out", again, "--vocab-from", corpus, "--arch", "llama", ...flags)).code, 0);
  assert.deepEqual(await readFile(join(again, "model.safetensors")), await readFile(join(out, "model.safetensors")));
  const other = join(dir, "m3");
  assert.equal(
    (await iopo("init-model", "--out", other, "--vocab-from", corpus, "--seed", "1", "--arch", "llama", ...flags)).code,
    0,
  );
  assert.notDeepEqual(await readFile(join(other, "model.safetensors")), await readFile(join(out, "model.safetensors")));
  assert.deepEqual(await readFile(join(other, "tokenizer.json")), await readFile(join(out, "tokenizer.json")));
});

test("init-model refuses a non-empty --out without --force, bad options and missing text files", async () => {
  const out = join(dir, "q");
  assert.equal((await iopo("init-model", "--out", out, "--vocab-from", corpus, "--vocab-size", "300")).code, 0);
  const again = await iopo("init-model", "--out", out, "--vocab-from", corpus);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /not empty[\s\S]*HINT: .*--force/);
  assert.equal(
    (await iopo("init-model", "--out", out, "--vocab-from", corpus, "--vocab-size", "300", "--force")).code,
    0,
  );
  const qwen2 = await loadModelDir(out);
  assert.equal(modelDims(qwen2.config).qkvBias, true);
  assert.equal(modelDims(qwen2.config).tied, true);
  const badArch = await iopo("init-model", "--out", join(dir, "x"), "--vocab-from", corpus, "--arch", "gpt2");
  assert.equal(badArch.code, 2);
  assert.match(badArch.stderr, /--arch/);
  const badHeads = await iopo("init-model", "--out", join(dir, "x"), "--vocab-from", corpus, "--heads", "3");
  assert.equal(badHeads.code, 2);
  const missing = await iopo("init-model", "--out", join(dir, "x"), "--vocab-from", join(dir, "nope.txt"));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.txt/);
});
