// `npm run bench:train -- --scale 0.5b`: the scale check of issue 13 — a Qwen2.5-0.5B-shaped model (random weights
// rounded to BF16) with the real Qwen2 tokenizer (../shared/data/tokenizers/qwen2/) on TRACE-shaped IOPO groups:
// prompts and responses are TRACE instructions tokenized with the Qwen2.5 chat template, cut to --prompt/--response
// tokens (default 413 + 317 ≈ 730 per sequence, prompt ≈ 1.3 × response). LoRA (rank 8, all linear layers) and full
// fine-tuning (LoRA's frozen base held in BF16 as `iopo train` holds a BF16 checkpoint, all matrices but the head's)
// each run in a child process while this one watches the machine's available memory and kills the child
// below --min-free-gb (a shared machine must not swap or reach the OOM killer). Prints s/step, tokens/s and peak RSS
// per step; each phase with and without gradient checkpointing (`+ck`). Usage: node --import tsx
// scripts/bench-train-scale.ts [--steps 2] [--prompt 413] [--response 317] [--phases lora,lora+ck,full+ck,full]
// [--min-free-gb 2]

import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { BenchTrainOptionsSchema, benchTrain } from "../src/cli/bench-train.ts";
import { byteLevelBpeTokenizerJson, ModelTokenizer, parseVocabAndMerges } from "../src/model/index.ts";
import { tokenizedFromIds } from "../src/train/index.ts";

const DATA = new URL("../../shared/data/", import.meta.url);

function flags(argv: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++)
    if (argv[i]!.startsWith("--")) out[argv[i]!.slice(2)] = argv[i + 1]?.startsWith("--") ? "true" : (argv[++i] ?? "");
  return out;
}

/** The real Qwen2 tokenizer with the Qwen2.5-Instruct chat template. */
async function qwen2Tokenizer(): Promise<ModelTokenizer> {
  const text = (p: string) => readFile(new URL(`tokenizers/qwen2/${p}`, DATA), "utf8");
  const json = byteLevelBpeTokenizerJson(
    parseVocabAndMerges(await text("vocab.json"), await text("merges.txt")),
    Object.entries(JSON.parse(await text("added_tokens.json")) as Record<string, number>).map(([content, id]) => ({
      id,
      content,
    })),
  );
  const config = JSON.parse(await text("tokenizer_config.qwen2-1.5b-finetune.json"));
  return new ModelTokenizer(json, { ...config, chat_template: await text("Qwen2.5-Instruct.chat_template.jinja") });
}

/**
 * One TRACE-shaped IOPO group per `groups`: x1, x2 = two TRACE instructions in the chat template (concatenated with
 * the next ones until long enough, then cut to `prompt` tokens); y1, y2 = other instructions' text as responses,
 * cut to `response` tokens and ended with <|im_end|>.
 */
async function traceGroups(groups: number, prompt: number, response: number) {
  const tok = await qwen2Tokenizer();
  const lines = (await readFile(new URL("trace/trace_eval.jsonl", DATA), "utf8")).split("\n").filter(Boolean);
  const texts = lines.map((l) => (JSON.parse(l) as { messages: { content: string }[] }).messages.at(-1)!.content);
  let k = 0;
  const take = (n: number, chat: boolean): number[] => {
    let text = "";
    let ids: number[] = [];
    while (ids.length < n) {
      text += `${texts[k++ % texts.length]}\n`;
      ids = chat
        ? tok.encodeChat([{ role: "user", content: text }], { addGenerationPrompt: true })
        : tok.encode(text).concat([151645]);
    }
    return chat ? ids.slice(ids.length - n) : ids.slice(0, n - 1).concat([151645]);
  };
  return Array.from({ length: groups }, (_, i) =>
    tokenizedFromIds(
      `g${i}`,
      "group",
      [take(prompt, true), take(prompt, true)],
      [take(response, false), take(response, false)],
    ),
  );
}

/** Child: one phase (lora or full), one JSON line on stdout. */
async function child(phase: string, f: Record<string, string>): Promise<void> {
  const prompt = Number(f.prompt ?? 413);
  const response = Number(f.response ?? 317);
  const o = BenchTrainOptionsSchema.parse({
    scale: "0.5b",
    lora: phase.startsWith("lora") ? 8 : 0,
    gradCheckpointing: phase.endsWith("+ck"),
    prompt,
    response,
    groups: 1,
    steps: Number(f.steps ?? 2),
    warmup: 1,
    profile: false,
  });
  const records = await traceGroups(1, prompt, response);
  const r = await benchTrain(o, records);
  process.stdout.write(`${JSON.stringify({ phase, ...r })}\n`);
}

/** Parent: run each phase in a child, kill it if available memory falls below the floor. */
async function main(f: Record<string, string>): Promise<void> {
  const floor = Number(f["min-free-gb"] ?? 2) * 2 ** 30;
  const phases = (f.phases ?? "lora,lora+ck,full+ck,full").split(",");
  const self = fileURLToPath(import.meta.url);
  const available = async () =>
    Number(/MemAvailable:\s+(\d+)/.exec(await readFile("/proc/meminfo", "utf8"))?.[1] ?? 0) * 1024;
  console.log(
    `0.5B scale check: Qwen2.5-0.5B shape (24 layers, hidden 896, 14/2 heads, MLP 4864, vocab 151,936, tied), BF16-rounded random weights, real Qwen2 tokenizer; 1 IOPO group of 4 sequences × ${Number(f.prompt ?? 413) + Number(f.response ?? 317)} tokens (prompt ${f.prompt ?? 413}, response ${f.response ?? 317}), shared prefix; memory floor ${(floor / 2 ** 30).toFixed(1)} GB available`,
  );
  for (const phase of phases) {
    // --expose-gc: the child collects the Float32 random init it converted to BF16 before it measures (benchTrain).
    const args = [
      "--expose-gc",
      "--import",
      "tsx",
      self,
      "--child",
      phase,
      ...Object.entries(f).flatMap(([k, v]) => [`--${k}`, v]),
    ];
    const p = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    let killed = "";
    let lowest = Number.POSITIVE_INFINITY;
    const watch = setInterval(async () => {
      const a = await available();
      lowest = Math.min(lowest, a);
      if (a < floor && !killed) {
        killed = `available memory fell to ${(a / 2 ** 30).toFixed(1)} GB`;
        p.kill("SIGKILL");
      }
    }, 250);
    const code = await new Promise<number | null>((res) => p.on("close", res));
    clearInterval(watch);
    const low = `lowest available memory during the phase ${(lowest / 2 ** 30).toFixed(1)} GB`;
    if (killed || code !== 0) {
      console.log(`${phase}: aborted (${killed || `exit ${code}`}); ${low}`);
      continue;
    }
    const r = JSON.parse(out.trim().split("\n").pop()!) as {
      step_ms: number[];
      tokens_per_s: number;
      peak_rss_mb: number[];
      rss_mb: number[];
      trained_parameters: number;
      parameters: number;
      graph_ms_median: number;
      accumulate_ms_median: number;
      adamw_ms_median: number;
    };
    const s = r.step_ms.map((x) => (x / 1000).toFixed(1)).join(", ");
    console.log(
      `${phase.startsWith("lora") ? "LoRA r8 IOPO (BF16 base held as stored but the head)" : "full IOPO (float32 weights)"}${phase.endsWith("+ck") ? " + gradient checkpointing" : ""} (${r.trained_parameters.toLocaleString("en")} of ${r.parameters.toLocaleString("en")} parameters trained): ${s} s/step timed (median split: ORT forward + backward ${(r.graph_ms_median / 1000).toFixed(1)} s, norm/clip ${(r.accumulate_ms_median / 1000).toFixed(1)} s, AdamW ${(r.adamw_ms_median / 1000).toFixed(1)} s), ${r.tokens_per_s} tokens/s; peak RSS per step (warm-up first) ${r.peak_rss_mb.map((x) => (x / 1024).toFixed(2)).join(", ")} GB; ${low}`,
    );
  }
}

const f = flags(process.argv.slice(2));
if (f.child) {
  const { child: phase, ...rest } = f;
  await child(phase!, rest);
} else await main(f);
