// GGUF export proved by another engine: llama.cpp (node-llama-cpp 3.21.1, CPU) loads the exported file, reads the
// metadata we meant (its own GGUF parser), tokenizes the chat-templated prompts as tokenizer.json does, and continues
// 10 prompts greedily token for token as the embedded engine behind `iopo generate --model-dir` (f32; Qwen2, Llama,
// and Llama with q/k/v/o biases and head_dim ≠ hidden/heads, through the q/k permutation). f16 and q8_0 files load
// and generate.
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type ExportDtype, exportGguf } from "../../src/export/index.ts";
import { Generator } from "../../src/model/generate.ts";
import {
  createModel,
  initLora,
  initParams,
  loadModelDir,
  loadTokenizer,
  loraTable,
  type ModelDir,
  makeRng,
  parseModelConfig,
  saveAdapter,
  saveModelDir,
} from "../../src/model/index.ts";

const dir = mkdtempSync(join(tmpdir(), "iopo-export-llama-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PROMPTS = [
  "Write a haiku about the sea.",
  "List three fruits, one per line.",
  "What is 12 times 7?",
  "Answer in exactly two sentences: why is the sky blue?",
  "Give me a title for a story about a robot.",
  "Reply in JSON with keys name and age.",
  "Summarize: the quick brown fox jumps over the lazy dog.",
  "用三句话介绍一下长城。", // CJK: byte-level tokens of 3-byte characters
  "Café au lait ☕ — naïve résumé, 12 000 €.",
  "Explain recursion to a child, without using the word 'function'.",
];
const NEW_TOKENS = 24;

type LlamaLib = typeof import("node-llama-cpp");
let lib: LlamaLib;
let llama: Awaited<ReturnType<LlamaLib["getLlama"]>>;
before(async () => {
  lib = await import("node-llama-cpp");
  llama = await lib.getLlama({
    gpu: false,
    build: "never",
    skipDownload: true,
    progressLogs: false,
    logLevel: lib.LlamaLogLevel.error,
  });
});

type Variant = "qwen2" | "llama" | "llama-bias-hd32";

/**
 * A tiny model with a tokenizer trained on the README. Its 2-D weights are scaled ×8 (std 0.16): at the init std
 * of 0.02 the logits are nearly flat and greedy decoding repeats one token, which would make the comparison empty.
 */
async function tinyModel(arch: Variant, intermediate = 192): Promise<{ md: string; model: ModelDir }> {
  const text = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  let model = createModel([text], {
    arch: arch === "qwen2" ? "qwen2" : "llama",
    vocabSize: 400,
    hidden: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    intermediate,
    maxPosition: 512,
    seed: 3,
  });
  if (arch === "llama-bias-hd32") {
    // Biases on q/k/v/o (the q/k ones are permuted too) and head_dim 32 ≠ hidden/heads (key_length metadata).
    const config = parseModelConfig({ ...model.config, attention_bias: true, head_dim: 32 });
    model = { ...model, config, params: initParams(config, 3) };
  }
  const rand = makeRng(7);
  model.params.table.forEach((row, i) => {
    const t = model.params.tensors[i]!;
    if (row.shape.length === 2) for (const [j, v] of t.entries()) t[j] = v * 8;
    else if (row.key.endsWith(".bias")) for (const j of t.keys()) t[j] = rand() - 0.5;
  });
  const md = join(dir, `${arch}-${intermediate}`);
  await saveModelDir(md, model);
  return { md, model: await loadModelDir(md) };
}

/**
 * llama.cpp's greedy continuation of each prompt (exactly `n` tokens, end-of-generation tokens included) and its
 * tokenization of `texts` (special tokens parsed).
 */
async function llamaCppRun(path: string, prompts: readonly number[][], n: number, texts: readonly string[] = []) {
  const model = await llama.loadModel({ modelPath: path });
  // One thread: llama.cpp's default (all cores, spin-waiting) crawls on a shared 2-core machine. The KV cache in
  // F32 and no flash attention: llama.cpp's default F16 cache rounds keys and values (≈1e-3 relative), enough to
  // flip a near-tie; with these settings the whole forward pass is f32, as the embedded engine's.
  const ctx = await model.createContext({
    contextSize: 512,
    sequences: 1,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: "F32",
    experimentalKvCacheValueType: "F32",
  });
  const seq = ctx.getSequence();
  const outs: number[][] = [];
  try {
    for (const p of prompts) {
      const out: number[] = [];
      for await (const t of seq.evaluate(p as never, { temperature: 0, yieldEogToken: true })) {
        out.push(t as number);
        if (out.length >= n) break;
      }
      outs.push(out);
      await seq.clearHistory();
    }
    return { outs, tokens: texts.map((text) => model.tokenize(text, true) as number[]) };
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

for (const arch of ["qwen2", "llama", "llama-bias-hd32"] as const satisfies readonly Variant[]) {
  test(`${arch}: llama.cpp continues 10 prompts greedily token for token as the embedded engine (f32)`, async () => {
    const { md, model } = await tinyModel(arch);
    const out = join(dir, `${arch}.gguf`);
    await exportGguf(md, out);
    const tok = await loadTokenizer(md);
    const rendered = PROMPTS.map((p) =>
      tok.applyChatTemplate([{ role: "user", content: p }], { addGenerationPrompt: true }),
    );
    const prompts = rendered.map((r) => tok.encode(r));
    const gen = await Generator.create(model);
    const ours: number[][] = [];
    try {
      for (const p of prompts) ours.push((await gen.generate(p, { maxTokens: NEW_TOKENS, stopIds: [] })).ids);
    } finally {
      await gen.release();
    }
    // Not a degenerate comparison: the continuations use many different tokens.
    assert.ok(new Set(ours.flat()).size > 40, `only ${new Set(ours.flat()).size} distinct tokens generated`);
    const cpp = await llamaCppRun(out, prompts, NEW_TOKENS, rendered);
    for (const [i, ids] of prompts.entries()) assert.deepEqual(cpp.tokens[i], ids, `tokenization of prompt ${i}`);
    for (const [i, ids] of ours.entries()) assert.deepEqual(cpp.outs[i], ids, `continuation of prompt ${i}`);
  });
}

test("llama.cpp's own GGUF parser reads the architecture, tokenizer and chat template we wrote", async () => {
  const { md, model } = await tinyModel("qwen2");
  const out = join(dir, "meta.gguf");
  await exportGguf(md, out);
  const info = await lib.readGgufFileInfo(out, { logWarnings: false });
  const meta = info.metadata as unknown as Record<string, Record<string, unknown>>;
  const cfg = model.config;
  assert.equal(meta.general!.architecture, "qwen2");
  assert.deepEqual(
    {
      context_length: meta.qwen2!.context_length,
      embedding_length: meta.qwen2!.embedding_length,
      block_count: meta.qwen2!.block_count,
      feed_forward_length: meta.qwen2!.feed_forward_length,
    },
    { context_length: 512, embedding_length: 64, block_count: 2, feed_forward_length: 192 },
  );
  const attn = meta.qwen2!.attention as Record<string, number>;
  assert.deepEqual([attn.head_count, attn.head_count_kv], [4, 2]);
  assert.ok(Math.abs(attn.layer_norm_rms_epsilon! - 1e-6) < 1e-12);
  assert.equal((meta.qwen2!.rope as Record<string, number>).freq_base, 1e6);
  const tk = meta.tokenizer as Record<string, unknown> & { ggml: Record<string, unknown> };
  const tokenizer = await loadTokenizer(md);
  assert.equal(tk.ggml.model, "gpt2");
  assert.equal(tk.ggml.pre, "qwen2");
  assert.equal((tk.ggml.tokens as string[]).length, cfg.vocab_size);
  assert.equal((tk.ggml.tokens as string[])[tokenizer.specialId("eos")!], "<|im_end|>");
  assert.equal(tk.ggml.eos_token_id, tokenizer.specialId("eos"));
  assert.equal(tk.ggml.padding_token_id, tokenizer.specialId("pad"));
  assert.equal(tk.chat_template, tokenizer.chatTemplate);
  const names = info.fullTensorInfo!.map((t) => t.name);
  assert.equal(names.length, model.params.table.length);
  assert.ok(names.includes("blk.1.attn_q.bias") && names.includes("token_embd.weight"));
  assert.ok(!names.includes("output.weight"), "a tied head is not stored (llama.cpp reuses token_embd)");
  const q = info.fullTensorInfo!.find((t) => t.name === "blk.0.attn_q.weight")!;
  assert.deepEqual(q.dimensions.map(Number), [64, 64], "ggml dims are innermost first");
});

for (const dtype of ["f16", "q8_0"] as const satisfies readonly ExportDtype[]) {
  test(`${dtype}: the file loads in llama.cpp and generates; tensor types as promised`, async () => {
    // intermediate 176: ffn_down rows (176) are not whole Q8_0 blocks, so q8_0 stores it as f16.
    const { md, model } = await tinyModel("llama", 176);
    const out = join(dir, `llama-${dtype}.gguf`);
    const r = await exportGguf(md, out, { dtype });
    const L = model.config.num_hidden_layers;
    const oneD = 2 * L + 1; // attn_norm, ffn_norm per layer + output_norm
    const twoD = model.params.table.length - oneD;
    assert.deepEqual(
      r.types,
      dtype === "f16" ? { f32: oneD, f16: twoD, q8_0: 0 } : { f32: oneD, f16: L, q8_0: twoD - L },
    );
    const info = await lib.readGgufFileInfo(out, { logWarnings: false });
    const typeOf = (name: string) => info.fullTensorInfo!.find((t) => t.name === name)!.ggmlType;
    assert.equal(typeOf("blk.0.attn_norm.weight"), lib.GgmlType.F32);
    assert.equal(typeOf("blk.0.attn_q.weight"), dtype === "f16" ? lib.GgmlType.F16 : lib.GgmlType.Q8_0);
    assert.equal(typeOf("blk.0.ffn_down.weight"), lib.GgmlType.F16);
    const tok = await loadTokenizer(md);
    const prompts = PROMPTS.slice(0, 3).map((p) =>
      tok.encodeChat([{ role: "user", content: p }], { addGenerationPrompt: true }),
    );
    const cpp = await llamaCppRun(out, prompts, 8);
    for (const o of cpp.outs) {
      assert.equal(o.length, 8);
      for (const id of o) assert.ok(id >= 0 && id < model.config.vocab_size);
    }
  });
}

test("a Llama-3 split tokenizer is exported as llama.cpp's llama-bpe and tokenizes as tokenizer.json does", async () => {
  const { md } = await tinyModel("llama");
  const l3 = join(dir, "llama3-split");
  cpSync(md, l3, { recursive: true });
  const json = JSON.parse(readFileSync(join(l3, "tokenizer.json"), "utf8"));
  // Llama-3's published split: digits in runs of up to three; its BPE model ignores merges for whole-vocab words.
  json.pre_tokenizer.pretokenizers[0].pattern.Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  json.model.ignore_merges = true;
  writeFileSync(join(l3, "tokenizer.json"), JSON.stringify(json));
  const out = join(dir, "llama3-split.gguf");
  await exportGguf(l3, out);
  const info = await lib.readGgufFileInfo(out, { logWarnings: false });
  assert.equal((info.metadata as unknown as { tokenizer: { ggml: { pre: string } } }).tokenizer.ggml.pre, "llama-bpe");
  const tok = await loadTokenizer(l3);
  const texts = [...PROMPTS, "1234567 and 2024-12-01, π ≈ 3.14159", "  two  spaces\n\nnew lines\ttab"];
  assert.deepEqual(tok.encode("1234567"), tok.encode("123").concat(tok.encode("456"), tok.encode("7")));
  const cpp = await llamaCppRun(out, [], 0, texts);
  for (const [i, text] of texts.entries()) assert.deepEqual(cpp.tokens[i], tok.encode(text), `tokenization of ${text}`);
  json.model.ignore_merges = false;
  writeFileSync(join(l3, "tokenizer.json"), JSON.stringify(json));
  await assert.rejects(
    exportGguf(l3, join(dir, "refused.gguf")),
    /ignore_merges differs from llama\.cpp's "llama-bpe"/,
  );
});

test("a LoRA adapter is merged into its base: llama.cpp continues as the embedded engine on W + (α/r)·B·A", async () => {
  const { md, model } = await tinyModel("llama");
  const spec = {
    rank: 4,
    alpha: 8,
    dropout: 0,
    targets: ["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"] as const,
  };
  const table = loraTable(model.config, { ...spec, targets: [...spec.targets] });
  const adapter = initLora(table, 5);
  const rand = makeRng(11);
  adapter.table.forEach((row, i) => {
    if (row.key.endsWith("lora_B.weight"))
      for (const j of adapter.tensors[i]!.keys()) adapter.tensors[i]![j] = rand() - 0.5;
  });
  const adapterDir = join(dir, "adapter");
  await saveAdapter(adapterDir, { ...spec, targets: [...spec.targets] }, adapter, md);
  const out = join(dir, "adapter.gguf");
  await exportGguf(adapterDir, out);
  // The merge by hand: W[o, j] += (α/r) · Σ_k B[o, k] · A[k, j] for every adapted weight.
  const s = spec.alpha / spec.rank;
  const at = new Map(adapter.table.map((row, i) => [row.key, adapter.tensors[i]!]));
  const merged = model.params.tensors.map((w, i) => {
    const key = model.params.table[i]!.key.replace(/\.weight$/, "");
    const A = at.get(`${key}.lora_A.weight`);
    const B = at.get(`${key}.lora_B.weight`);
    if (!A || !B) return w;
    const [rows, cols] = model.params.table[i]!.shape as [number, number];
    const m = Float32Array.from(w);
    for (let o = 0; o < rows; o++)
      for (let j = 0; j < cols; j++) {
        let sum = 0;
        for (let k = 0; k < spec.rank; k++) sum += B[o * spec.rank + k]! * A[k * cols + j]!;
        m[o * cols + j] = w[o * cols + j]! + s * sum;
      }
    return m;
  });
  const tok = await loadTokenizer(md);
  const prompts = PROMPTS.map((p) => tok.encodeChat([{ role: "user", content: p }], { addGenerationPrompt: true }));
  const greedy = async (m: ModelDir) => {
    const gen = await Generator.create(m);
    try {
      const outs: number[][] = [];
      for (const p of prompts) outs.push((await gen.generate(p, { maxTokens: NEW_TOKENS, stopIds: [] })).ids);
      return outs;
    } finally {
      await gen.release();
    }
  };
  const ours = await greedy({ ...model, params: { table: model.params.table, tensors: merged } });
  const base = await greedy(model);
  assert.ok(
    ours.some((ids, i) => ids.join() !== base[i]!.join()),
    "the adapter changes the continuations",
  );
  const cpp = await llamaCppRun(out, prompts, NEW_TOKENS);
  for (const [i, ids] of ours.entries()) assert.deepEqual(cpp.outs[i], ids, `continuation of prompt ${i}`);
});
