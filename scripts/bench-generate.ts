// Benchmark: KV-cache generation on the embedded engine. Prefill tokens/s of the whole prompt in one pass (each
// prompt alone, and all prompts together: one padded pass when padding wastes ≤ 25%) against token-by-token
// prefill (the earlier way) in the same run, and decode tokens/s for one row and for all rows together. Median of
// --repeat runs, wall clock; peak RSS at the end.
// Model: a random one of the reference training shape (vocab 2048, hidden 256, 4 layers, 4/2 heads, mlp 704),
// --scale 0.5b (Qwen2.5-0.5B's shape, random weights), or --model-dir <HF dir>. Usage: npm run bench:generate --
//   [--prompts 4] [--prompt-len 128] [--new 32] [--threads 2] [--repeat 3] [--scale 0.5b | --model-dir dir]

import { Generator } from "../src/model/generate.ts";
import {
  allocateParams,
  initParams,
  loadModelDir,
  type ModelDir,
  makeRng,
  newModelConfig,
  paramTable,
  parseModelConfig,
} from "../src/model/index.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const dirArg = process.argv.indexOf("--model-dir");
const nPrompts = arg("prompts", 4);
const promptLen = arg("prompt-len", 128);
const nNew = arg("new", 32);
const threads = arg("threads", 2);
const repeat = arg("repeat", 3);

const scaled = process.argv.includes("--scale");

/** Qwen2.5-0.5B's shape with cheap pseudo-random weights (±0.02 uniform; speed does not depend on the values). */
function qwenHalfB(): Pick<ModelDir, "config" | "params"> {
  const config = parseModelConfig({
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    vocab_size: 151936,
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    rope_theta: 1e6,
    tie_word_embeddings: true,
    eos_token_id: 151645,
  });
  const params = allocateParams(paramTable(config));
  let x = 12345;
  for (const t of params.tensors)
    for (let i = 0; i < t.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      t[i] = (x / 2 ** 32 - 0.5) * 0.04;
    }
  return { config, params };
}

async function model(): Promise<Pick<ModelDir, "config" | "params">> {
  if (dirArg >= 0) return loadModelDir(process.argv[dirArg + 1]!);
  if (scaled) return qwenHalfB();
  const config = newModelConfig({
    arch: "qwen2",
    vocabSize: 2048,
    hidden: 256,
    layers: 4,
    heads: 4,
    kvHeads: 2,
    intermediate: 704,
    bosTokenId: null,
    eosTokenId: 2047,
    padTokenId: null,
  });
  return { config, params: initParams(config, 0) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(f: () => Promise<unknown>): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = performance.now();
    await f();
    runs.push((performance.now() - t0) / 1000);
  }
  return median(runs);
}

const m = await model();
const gen = await Generator.create(m, threads);
const rand = makeRng(1);
const V = m.config.vocab_size;
// Prompts of varied length around --prompt-len (batched prefill pads to the longest).
const prompts = Array.from({ length: nPrompts }, (_, i) =>
  Array.from({ length: Math.max(1, promptLen - 8 * i) }, () => Math.floor(rand() * V)),
);
const promptTokens = prompts.reduce((a, p) => a + p.length, 0);
const o = { maxTokens: nNew, stopIds: [] };

await gen.generate(prompts[0]!, { maxTokens: 2, stopIds: [] }); // warm-up: first-run allocations
const tokens = await time(async () => {
  for (const p of prompts) await gen.promptLogits([p], "tokens");
});
const single = await time(async () => {
  for (const p of prompts) await gen.promptLogits([p], "batch");
});
const batched = await time(() => gen.promptLogits(prompts, "batch"));
// Decode time = generating n tokens minus generating 1 (the prefill and the first pick are the same).
const one =
  (await time(() => gen.generate(prompts[0]!, o))) -
  (await time(() => gen.generate(prompts[0]!, { ...o, maxTokens: 1 })));
const all =
  (await time(() => gen.generateBatch(prompts, o))) -
  (await time(() => gen.generateBatch(prompts, { ...o, maxTokens: 1 })));
await gen.release();

const rate = (n: number, s: number) => `${(n / s).toFixed(0).padStart(7)} tokens/s`;
console.log(
  `model: V ${V}, hidden ${m.config.hidden_size}, ${m.config.num_hidden_layers} layers; ${nPrompts} prompts, ` +
    `${promptTokens} prompt tokens (${prompts.map((p) => p.length).join("/")}), ${nNew} new tokens each; ` +
    `${threads} threads; median of ${repeat}`,
);
console.log(`prefill token by token (earlier)   ${rate(promptTokens, tokens)}   ${tokens.toFixed(3)} s`);
console.log(
  `prefill one pass, one prompt        ${rate(promptTokens, single)}   ${single.toFixed(3)} s   ×${(tokens / single).toFixed(1)}`,
);
console.log(
  `prefill one pass, prompts together  ${rate(promptTokens, batched)}   ${batched.toFixed(3)} s   ×${(tokens / batched).toFixed(1)}`,
);
console.log(`decode, one row                     ${rate(nNew - 1, one)}`);
console.log(`decode, ${nPrompts} rows together             ${rate(nPrompts * (nNew - 1), all)}`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
