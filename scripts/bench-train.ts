// `npm run bench:train`: IOPO training steps of the default bench model in iopo (ONNX Runtime) and in PyTorch 1.13
// (Debian python3-torch, at its best thread count), side by side, with the ratio. Extra args go to both sides,
// e.g. `npm run bench:train -- --steps 10 --groups 1`. Without python3-torch it prints ours and says so.

import { spawnSync } from "node:child_process";
import os from "node:os";
import { BenchTrainOptionsSchema, benchTrain } from "../src/cli/bench-train.ts";

const args = process.argv.slice(2);
const flags: Record<string, string | boolean> = {};
for (let i = 0; i < args.length; i++) {
  const key = args[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (i + 1 < args.length && !args[i + 1].startsWith("--")) flags[key] = args[++i];
  else flags[key] = true;
}
const o = BenchTrainOptionsSchema.parse(flags);
const ours = await benchTrain(o);
console.log(
  `iopo train's step (onnxruntime-node, ${ours.threads} threads, ${ours.method}): ${ours.step_ms_median} ms/step, ${ours.tokens_per_s} tokens/s (graph ${ours.graph_ms_median} ms, accumulate/clip ${ours.accumulate_ms_median} ms, AdamW ${ours.adamw_ms_median} ms)`,
);
console.log(
  `  matmul ${ours.matmul_gflop_per_step} GFLOP/step → ${ours.achieved_gflops} GFLOP/s; ORT MatMul peak ${ours.matmul_peak_gflops} GFLOP/s`,
);
console.log(
  `  AdamW (TypeScript, ${ours.adamw_threads} threads) ${ours.adamw_ms_median} ms of the step; graph ${ours.graph_nodes} nodes → ${ours.onnx_nodes} ONNX nodes`,
);
if (ours.profile_ms_by_op) {
  const total = Object.values(ours.profile_ms_by_op).reduce((a, b) => a + b, 0);
  console.log(`  where the time goes (ORT profiler, kernel ms per step, total ${total.toFixed(1)}):`);
  for (const [op, ms] of Object.entries(ours.profile_ms_by_op).slice(0, 12))
    console.log(
      `    ${op.padEnd(18)} ${ms.toFixed(2).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`,
    );
}

// PyTorch at each combination of torch threads × OpenBLAS threads up to the core count (Debian's torch calls the
// system BLAS for matmuls, whose pthreads contend with torch's OpenMP pool; torch × BLAS threads ≤ cores, as more
// only oversubscribes): the best is the baseline.
const torchArgs = [
  "vocab",
  "hidden",
  "layers",
  "heads",
  "kvHeads",
  "intermediate",
  "prompt",
  "response",
  "groups",
  "steps",
].flatMap((k) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(o[k as keyof typeof o])]);
let best: { threads: number; blas: number; step_ms_median: number; tokens_per_s: number } | null = null;
const cores = os.availableParallelism();
// The machines here set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (a workaround for old OpenBLAS builds) and they can slow
// a current one: PyTorch is measured both with them as set and with both unset, and its best run is the baseline.
const blasEnvs: { label: string; env: NodeJS.ProcessEnv }[] = [{ label: "", env: process.env }];
if (process.env.OPENBLAS_CORETYPE || process.env.OPENBLAS_L2_SIZE) {
  const { OPENBLAS_CORETYPE: _c, OPENBLAS_L2_SIZE: _l, ...rest } = process.env;
  blasEnvs.push({ label: ", OPENBLAS_CORETYPE/L2_SIZE unset", env: rest });
}
search: for (const { label, env } of blasEnvs)
  for (let t = 1; t <= cores; t++)
    for (let blas = 1; t * blas <= cores; blas *= 2) {
      const r = spawnSync("/usr/bin/python3", ["scripts/bench-train-torch.py", ...torchArgs, "--threads", String(t)], {
        encoding: "utf8",
        env: { ...env, OPENBLAS_NUM_THREADS: String(blas), OMP_NUM_THREADS: String(t) },
      });
      if (r.status !== 0) {
        const why = (r.stderr || r.error?.message || "").trim().split("\n").pop();
        console.log(`PyTorch: not available (${why}); install with apt-get install -y python3-torch`);
        best = null;
        break search;
      }
      const res = { ...JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}"), blas };
      console.log(
        `PyTorch ${t} thread(s), OpenBLAS ${blas}${label}: ${res.step_ms_median.toFixed(1)} ms/step, ${Math.round(res.tokens_per_s)} tokens/s`,
      );
      if (!best || res.step_ms_median < best.step_ms_median) best = res;
    }
if (best)
  console.log(`ratio (iopo tokens/s ÷ best PyTorch tokens/s): ${(ours.tokens_per_s / best.tokens_per_s).toFixed(2)}×`);

// The same configuration through `iopo train --engine torch` (scripts/bench-train-engine-torch.ts).
const { benchEngineTorch } = await import("./bench-train-engine-torch.ts");
const et = await benchEngineTorch(o).catch((e: Error) => e);
if (et instanceof Error) console.log(`iopo train --engine torch: not available (${et.message.split("\n")[0]})`);
else
  console.log(
    `iopo train --engine torch (torch ${et.torch}, 1 rank, CPU fp32): ${et.step_ms_median.toFixed(1)} ms/step, ${Math.round(et.tokens_per_s)} tokens/s (start-up ${et.startup_s.toFixed(1)} s: torch import, model load, reference pass)`,
  );
