// `npm run bench:memory`: how well the memory estimate (src/model/memory.ts) predicts a training step's memory on
// this machine. For each model shape, with and without gradient checkpointing, a child process
// (test/model/memory-probe.ts) runs two forward + backward passes of a `TrainStep` and prints the growth of its peak
// RSS; this script prints it beside the estimate's activations + logits + gradients and their ratio. The first 8
// shapes are the ones MEMORY_FIT was fitted on, the last 2 were not. Usage: node --import tsx
// scripts/bench-memory.ts [--json]

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { estimateMemory } from "../src/model/index.ts";
import { probeShape } from "../test/model/probe-shape.ts";

const PROBE = fileURLToPath(new URL("../test/model/memory-probe.ts", import.meta.url));

// hidden, layers, heads, kv heads, MLP, vocab, sequences B, tokens T, scored R
const SHAPES: readonly (readonly number[])[] = [
  [256, 4, 4, 4, 704, 2048, 8, 128, 60],
  [384, 3, 6, 2, 1024, 4096, 3, 300, 120],
  [512, 4, 8, 2, 1408, 8192, 4, 256, 110],
  [256, 8, 4, 2, 704, 2048, 4, 512, 220],
  [896, 2, 14, 2, 4864, 32768, 4, 256, 110],
  [640, 6, 10, 2, 1792, 16384, 2, 512, 220],
  [256, 2, 16, 4, 704, 2048, 8, 384, 160],
  [512, 2, 4, 4, 2048, 16384, 8, 192, 90],
  [320, 3, 5, 1, 896, 6144, 4, 320, 140],
  [448, 5, 7, 7, 1216, 12288, 4, 448, 200],
];
const MB = 2 ** 20;

const rows = [];
for (const [k, s] of SHAPES.entries())
  for (const checkpoint of [false, true]) {
    const r = spawnSync(process.execPath, ["--import", "tsx", PROBE, ...s.map(String), checkpoint ? "1" : "0"], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`probe failed for ${s.join(" ")}: ${r.stderr}`);
    const { grown } = JSON.parse(r.stdout) as { grown: number };
    const [hidden, layers, heads, kvHeads, intermediate, vocabSize, B, T, R] = s as number[];
    const cfg = probeShape(hidden!, layers!, heads!, kvHeads!, intermediate!, vocabSize!);
    const est = estimateMemory(cfg, { mode: "full", sequences: B!, maxLen: T!, scored: R!, checkpoint });
    const estimated = est.parts.activations + est.parts.logits + est.parts.gradients;
    const row = {
      shape: s.join("/"),
      fitted: k < 8,
      checkpoint,
      measured_mb: Math.round(grown / MB),
      estimated_mb: Math.round(estimated / MB),
      ratio: Number((estimated / grown).toFixed(2)),
    };
    rows.push(row);
    if (!process.argv.includes("--json"))
      console.log(
        `${row.shape.padEnd(34)} ${row.fitted ? "fitted  " : "unfitted"} ${checkpoint ? "checkpointed" : "kept        "} measured ${String(row.measured_mb).padStart(5)} MB, estimated ${String(row.estimated_mb).padStart(5)} MB, ratio ${row.ratio.toFixed(2)}`,
      );
  }
const ratios = rows.map((r) => r.ratio).sort((a, b) => a - b);
const summary = {
  runs: rows.length,
  ratio_min: ratios[0],
  ratio_median: ratios[Math.floor(ratios.length / 2)],
  ratio_max: ratios.at(-1),
};
if (process.argv.includes("--json")) console.log(JSON.stringify({ rows, summary }));
else
  console.log(
    `estimate / measured: min ${summary.ratio_min}, median ${summary.ratio_median}, max ${summary.ratio_max} over ${summary.runs} runs`,
  );
