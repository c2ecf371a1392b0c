// `npm run bench:train`: IOPO training steps of the default bench model in iopo (ONNX Runtime) and in PyTorch 1.13
// (Debian python3-torch, at its best thread count), side by side, with the ratio (median of back-to-back pairs, as
// the machine's speed drifts). Extra args go to both sides, e.g. `npm run bench:train -- --steps 10 --groups 1`.
// Without python3-torch it prints ours and says so.

import { spawnSync } from "node:child_process";
import os from "node:os";
import {
  BenchTrainOptionsSchema,
  type BenchTrainResult,
  benchInterleaved,
  benchTrain,
} from "../src/cli/bench-train.ts";
import { ProviderError } from "../src/errors.ts";
import { SPLIT_MIN_SCORES } from "../src/model/index.ts";

const args = process.argv.slice(2);
// `--scale 0.5b`: the Qwen2.5-0.5B-shaped scale check (LoRA and full IOPO steps, RSS per step) instead.
const scaleAt = args.indexOf("--scale");
if (scaleAt >= 0 && args[scaleAt + 1] === "0.5b") {
  const rest = args.filter((_, i) => i !== scaleAt && i !== scaleAt + 1);
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/bench-train-scale.ts", ...rest], {
    stdio: "inherit",
  });
  process.exit(r.status ?? 1);
}
const flags: Record<string, string | boolean> = {};
for (let i = 0; i < args.length; i++) {
  const key = args[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (i + 1 < args.length && !args[i + 1].startsWith("--")) flags[key] = args[++i];
  else flags[key] = true;
}
const { tracePrompt, traceResponse, ...benchFlags } = flags;
const o = BenchTrainOptionsSchema.parse(benchFlags);
// Timed without the ORT profiler (it costs time per node); a short profiled run after it gives the split.
const ours = await benchTrain({ ...o, profile: false });
console.log(
  `iopo train's step (onnxruntime-node, ${ours.threads} threads, ${ours.method}): ${ours.step_ms_median} ms/step, ${ours.tokens_per_s} tokens/s (graph ${ours.graph_ms_median} ms, accumulate/clip ${ours.accumulate_ms_median} ms, AdamW ${ours.adamw_ms_median} ms)`,
);
console.log(
  `  matmul ${ours.matmul_gflop_per_step} GFLOP/step → ${ours.achieved_gflops} GFLOP/s; ORT MatMul peak ${ours.matmul_peak_gflops} GFLOP/s`,
);
console.log(
  `  AdamW (WebAssembly SIMD, 1 thread) ${ours.adamw_ms_median} ms of the step; graph ${ours.graph_nodes} nodes → ${ours.onnx_nodes} ONNX nodes`,
);
console.log(
  `  peak RSS per step (warm-up first): ${ours.peak_rss_mb.join(", ")} MB; RSS after each: ${ours.rss_mb.join(", ")} MB`,
);
const prof = o.profile ? await benchTrain({ ...o, steps: 5, warmup: 1, profile: true }) : null;
if (prof?.profile_ms_by_op) {
  const byOp = prof.profile_ms_by_op;
  const total = Object.values(byOp).reduce((a, b) => a + b, 0);
  const matmul = Object.entries(byOp)
    .filter(([op]) => /MatMul|Gemm/.test(op))
    .reduce((a, [, ms]) => a + ms, 0);
  // Copies: what the ORT runs take beyond their kernels (feeding, fetching, allocation) plus gradient
  // accumulation, the norm and clipping in TypeScript.
  const copies = prof.graph_ms_median - total + prof.accumulate_ms_median;
  const f = (x: number) => `${x.toFixed(1)} ms (${((100 * x) / prof.step_ms_median).toFixed(0)}%)`;
  console.log(
    `  step split (profiled run, ${prof.step_ms_median} ms/step): matmul ${f(matmul)}, other ops ${f(total - matmul)}, AdamW ${f(prof.adamw_ms_median)}, copies/overhead ${f(copies)}`,
  );
  console.log(`  where the time goes (ORT profiler, kernel ms per step, total ${total.toFixed(1)}):`);
  for (const [op, ms] of Object.entries(byOp).slice(0, 12))
    console.log(
      `    ${op.padEnd(18)} ${ms.toFixed(2).padStart(8)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`,
    );
}

// Shared prefix vs four separate sequences on TRACE-shaped groups (prompt ≈ 1.3 × response, as in TRACE), same
// model, interleaved step by step in this process (benchInterleaved: both steps built once, one step of each per
// round, the order reversing every round), so both sides of a round see the same minute of a machine whose speed
// drifts by tens of percent: each round's ratio, and their median, which is the figure reported.
// TRACE's own lengths by default (the scale check's: prompt 413 + response 317 tokens); `--trace-prompt 144
// --trace-response 112` is the same shape scaled down, where attention is a smaller share of the step.
const tp = Number(tracePrompt ?? 413);
const tr = Number(traceResponse ?? 317);
const ROUNDS = 3;
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sp = await benchInterleaved(
  { ...o, prompt: tp, response: tr, steps: Math.max(o.steps, 12), warmup: 2, profile: false },
  {
    on: { sharedPrefix: true },
    oneMask: { sharedPrefix: true, splitAttention: "off" },
    off: { sharedPrefix: false },
  },
);
const perRound = (num: readonly number[], den: readonly number[]) => num.map((x, i) => x / den[i]!);
const spRatios = perRound(sp.off!, sp.on!);
const q = (xs: readonly number[], f: number) => [...xs].sort((a, b) => a - b)[Math.floor(f * (xs.length - 1))]!;
console.log(
  `shared prefix on TRACE-shaped groups (prompt ${tp} + response ${tr}, ${o.groups} groups/step): ${median(spRatios).toFixed(2)}× more groups/s than four sequences (median of ${spRatios.length} interleaved rounds, quartiles ${q(spRatios, 0.25).toFixed(2)}–${q(spRatios, 0.75).toFixed(2)}; steps ${median(sp.on!).toFixed(1)} vs ${median(sp.off!).toFixed(1)} ms)`,
);
// The same rounds: shared prefix with one mask per row (split attention off), against four sequences and against the
// step above (which splits where SPLIT_MIN_SCORES says it pays).
const oneRatios = perRound(sp.off!, sp.oneMask!);
const splitGain = perRound(sp.oneMask!, sp.on!);
console.log(
  `  with one mask per row (no split attention): ${median(oneRatios).toFixed(2)}× four sequences; the step as iopo train runs it (split attention ${tr * (tp + tr) >= SPLIT_MIN_SCORES ? "on" : "off"} at R·S = ${tr * (tp + tr)}) is ${median(splitGain).toFixed(2)}× as fast as one mask (median of rounds)`,
);

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
interface TorchRun {
  threads: number;
  blas: number;
  label: string;
  env: NodeJS.ProcessEnv;
  step_ms_median: number;
  tokens_per_s: number;
}
const torchRun = (t: number, blas: number, label: string, env: NodeJS.ProcessEnv): TorchRun | string => {
  const r = spawnSync("/usr/bin/python3", ["scripts/bench-train-torch.py", ...torchArgs, "--threads", String(t)], {
    encoding: "utf8",
    env: { ...env, OPENBLAS_NUM_THREADS: String(blas), OMP_NUM_THREADS: String(t) },
  });
  if (r.status !== 0) return (r.stderr || r.error?.message || "").trim().split("\n").pop() ?? "";
  return { ...JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}"), threads: t, blas, label, env };
};
let best: TorchRun | null = null;
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
      const res = torchRun(t, blas, label, env);
      if (typeof res === "string") {
        console.log(`PyTorch: not available (${res}); install with apt-get install -y python3-torch`);
        best = null;
        break search;
      }
      console.log(
        `PyTorch ${t} thread(s), OpenBLAS ${blas}${label}: ${res.step_ms_median.toFixed(1)} ms/step, ${Math.round(res.tokens_per_s)} tokens/s`,
      );
      if (!best || res.step_ms_median < best.step_ms_median) best = res;
    }
if (best) {
  // Then PyTorch's best setting and ours back to back, ROUNDS times: the ratio of each pair and their median — the
  // figure reported, as both sides of a pair see the same machine. The best of all our runs ÷ PyTorch's best run is
  // printed beside it.
  const rounds: { ours: BenchTrainResult; torch: TorchRun }[] = [];
  // The order alternates (PyTorch–ours, ours–PyTorch, PyTorch–ours), so a steady drift favours neither side.
  const rerun = () => {
    const r = torchRun(best!.threads, best!.blas, best!.label, best!.env);
    if (typeof r === "string") throw new ProviderError("PyTorch failed on a rerun of its best setting", { got: r });
    return r;
  };
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      const torch = rerun();
      rounds.push({ torch, ours: await benchTrain({ ...o, profile: false }) });
    } else {
      const ours = await benchTrain({ ...o, profile: false });
      rounds.push({ ours, torch: rerun() });
    }
  }
  const ratios = rounds.map((r) => r.ours.tokens_per_s / r.torch.tokens_per_s);
  const oursBest = Math.max(ours.tokens_per_s, ...rounds.map((r) => r.ours.tokens_per_s));
  const torchBest = Math.max(best.tokens_per_s, ...rounds.map((r) => r.torch.tokens_per_s));
  console.log(
    `paired rounds (PyTorch ${best.threads} thread(s), OpenBLAS ${best.blas}${best.label} and iopo, order alternating): ${rounds.map((r, i) => `${r.torch.step_ms_median.toFixed(1)} vs ${r.ours.step_ms_median} ms = ${ratios[i]!.toFixed(2)}×`).join("; ")} (load average ${os.loadavg()[0]!.toFixed(1)})`,
  );
  console.log(
    `ratio (iopo tokens/s ÷ PyTorch tokens/s): ${median(ratios).toFixed(2)}× (median of ${ROUNDS} back-to-back pairs; best run ÷ best run ${(oursBest / torchBest).toFixed(2)}×, ${oursBest} ÷ ${Math.round(torchBest)}; first timing ÷ PyTorch's best ${(ours.tokens_per_s / torchBest).toFixed(2)}×)`,
  );
}

// The same configuration through `iopo train --engine torch` (scripts/bench-train-engine-torch.ts).
const { benchEngineTorch } = await import("./bench-train-engine-torch.ts");
const et = await benchEngineTorch(o).catch((e: Error) => e);
if (et instanceof Error) console.log(`iopo train --engine torch: not available (${et.message.split("\n")[0]})`);
else
  console.log(
    `iopo train --engine torch (torch ${et.torch}, 1 rank, CPU fp32): ${et.step_ms_median.toFixed(1)} ms/step, ${Math.round(et.tokens_per_s)} tokens/s (start-up ${et.startup_s.toFixed(1)} s: torch import, model load, reference pass)`,
  );
