// `npm run demo:base`: trains the demo's shipped base model once — the stand-in for the instruction-tuned model the
// paper starts from (Llama-3.1-8B-Instruct, Qwen2-7B-Instruct) — and writes it to assets/demo-base/, where
// `npm start` copies it as every seed's starting model. The base is the demo's model shape (src/demo/config.ts),
// trained with SFT on a large instruction set from the offline world's training topics only: construction seed
// BASE.seed (the demo's data use construction seed 0, the pilots' validation split its own 4 topics; the held-out topics are
// never built here: evalN 0). Its byte-level BPE tokenizer is trained on the same texts.
// Usage: npm run demo:base [-- --work runs/demo-base --out assets/demo-base --threads 0]
// Resumable (checkpoints every quarter); it took 20 min on this project's 2-core machine. The validation pilots
// (scripts/demo-pilots.ts, round 5) measure what the base changes; docs/demo.md reports them.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildOfflineDataset } from "../src/construct/index.ts";
import { BASE_FILES, copyDirAtomic, type DemoBaseInfo, demoConfig, layout } from "../src/demo/index.ts";
import { initModelPhase, recordChars, trainPhase } from "../src/demo/phases.ts";
import { tokensOf } from "../src/demo/run.ts";
import { writeFileAtomic, writeJsonlAtomic } from "../src/io/index.ts";

/** Fixed before the base was trained: 16× the demo's construction seeds, ≈ 8 epochs at the demo's SFT settings. */
const BASE = { seed: 1000, n: 76_800, max_chars: 500, steps: 24_000 } as const;

const { values: args } = parseArgs({
  options: {
    work: { type: "string", default: "runs/demo-base" },
    out: { type: "string", default: "assets/demo-base" },
    threads: { type: "string", default: "0" },
  },
});
const log = {
  info: (l: string) => console.log(l),
  progress: (l: string) => process.stdout.isTTY && process.stdout.write(`\r${l.slice(0, 140).padEnd(140)}\r`),
};

const threads = Number(args.threads);
if (!Number.isInteger(threads) || threads < 0) {
  console.error(`--threads: expected a whole number ≥ 0 (0 = every core), got ${JSON.stringify(args.threads)}`);
  process.exit(2);
}
// --out is replaced as a whole: refuse a directory that is not a demo base (a typo must not wipe a folder).
if (existsSync(args.out!) && !existsSync(join(args.out!, "base.json"))) {
  console.error(`--out ${args.out}: exists and is not a demo base (no base.json); choose another directory`);
  process.exit(2);
}
const full = demoConfig("full", BASE.seed);
const c = {
  ...full,
  base: "new" as const,
  seeds: 1,
  methods: ["sft" as const],
  n: BASE.n,
  max_chars: BASE.max_chars,
  sft: { ...full.sft, steps: BASE.steps },
  threads,
};
const L = layout(args.work!);
const t0 = performance.now();
const counts = join(args.work!, "data", "counts.json");
if (!existsSync(counts)) {
  const d = await buildOfflineDataset({ seed: BASE.seed, n: BASE.n, evalN: 0 });
  const sft = d.sft.filter((e) => recordChars(e.instruction, e.response) <= BASE.max_chars);
  await writeJsonlAtomic(L.sft, sft);
  await writeFileAtomic(counts, `${JSON.stringify({ built: d.sft.length, kept: sft.length })}\n`);
}
const kept = (JSON.parse(await readFile(counts, "utf8")) as { kept: number }).kept;
log.info(
  `demo base: ${kept} SFT examples (construction seed ${BASE.seed}, ${BASE.n} seeds, ≤ ${BASE.max_chars} chars)`,
);
if (!existsSync(join(L.initModel(BASE.seed), "model.safetensors"))) await initModelPhase(c, L, BASE.seed, log);
const ckpt = await trainPhase(
  c,
  L,
  {
    name: "sft",
    method: "sft",
    seed: BASE.seed,
    model: L.initModel(BASE.seed),
    data: L.sft,
    format: "sft",
    ...c.sft,
    loss: {},
  },
  log,
);
const metrics = join(L.train(BASE.seed, "sft"), "metrics.jsonl");
const tokens = await tokensOf(metrics);
const last = (await readFile(metrics, "utf8")).trim().split("\n").slice(-50);
const loss = last.map((l) => (JSON.parse(l) as { loss: number }).loss).reduce((a, b) => a + b, 0) / last.length;
const info: DemoBaseInfo = {
  script: "scripts/demo-base.ts",
  construction_seed: BASE.seed,
  seeds: BASE.n,
  max_chars: BASE.max_chars,
  sft_examples: kept,
  steps: BASE.steps,
  batch: c.sft.batch,
  lr: c.sft.lr,
  warmup: c.sft.warmup,
  tokens: tokens ?? { prompt: 0, response: 0 },
  final_loss: Number(loss.toFixed(4)),
  model: c.model,
};
// The checkpoint's model files and base.json replace --out in one rename (copyDirAtomic).
await writeFileAtomic(join(ckpt, "base.json"), `${JSON.stringify(info, null, 2)}\n`);
await copyDirAtomic(ckpt, ["base.json", ...BASE_FILES], args.out!);
log.info(
  `demo base → ${args.out} (${BASE.steps} steps, mean loss of the last 50 ${loss.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
);
