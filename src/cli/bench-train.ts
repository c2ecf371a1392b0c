// `iopo bench train`: time IOPO training steps (forward + backward + AdamW) of a random Llama on random tokens,
// with ONNX Runtime's MatMul peak and a per-op-type profile for context. Reference log-probs are computed once,
// outside the timing. Does not compare with PyTorch (scripts/bench-train.ts does).

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import * as E from "../engine/index.ts";
import { ConfigError } from "../errors.ts";
import {
  batchFeeds,
  countParams,
  initParams,
  iopoLossGraph,
  llamaInputs,
  newModelConfig,
  paramFeeds,
  sequenceLogps,
} from "../model/index.ts";
import { parseOptions } from "./util.ts";

// ---- types ----

const Int = (min: number) => z.coerce.number().int().min(min);

export const BenchTrainOptionsSchema = z.strictObject({
  vocab: Int(2).default(2048),
  hidden: Int(2).default(256),
  layers: Int(1).default(4),
  heads: Int(1).default(4),
  kvHeads: Int(1).default(4),
  intermediate: Int(1).default(704),
  prompt: Int(1).default(64),
  response: Int(1).default(64),
  groups: Int(1).default(2),
  steps: Int(1).default(20),
  warmup: Int(0).default(2),
  threads: Int(0).default(0),
  adamwThreads: Int(0).default(0),
  spin: z.enum(["auto", "on", "off"]).default("auto"),
  profile: z.boolean().default(true),
  json: z.boolean().default(false),
});
export type BenchTrainOptions = z.infer<typeof BenchTrainOptionsSchema>;

export interface BenchTrainResult {
  readonly step_ms_median: number;
  readonly tokens_per_s: number;
  readonly step_ms: readonly number[];
  readonly adamw_ms_median: number;
  readonly parameters: number;
  readonly tokens_per_step: number;
  readonly matmul_gflop_per_step: number;
  readonly achieved_gflops: number;
  readonly matmul_peak_gflops: number;
  readonly graph_nodes: number;
  readonly onnx_nodes: number;
  readonly build_ms: number;
  readonly session_ms: number;
  readonly threads: number;
  /** Threads of the AdamW update (the calling thread plus workers). */
  readonly adamw_threads: number;
  /** Whether idle ORT threads spin-waited in the timed runs. */
  readonly spin: boolean;
  readonly profile_ms_by_op?: Readonly<Record<string, number>>;
}

// ---- helpers ----

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** FLOPs of the live MatMul nodes with symbols bound (forward and backward: the graph holds both). */
function matmulFlops(graph: E.Graph, outputs: readonly E.Node[], bind: Record<string, number>): number {
  const val = (d: E.Dim) =>
    typeof d === "number" ? d : d.split("*").reduce((a, s) => a * (/^\d+$/.test(s) ? Number(s) : bind[s]), 1);
  let flops = 0;
  for (const n of E.liveNodes(graph, outputs)) {
    if (n.op !== "MatMul") continue;
    const a = graph.node(n.inputs[0]);
    flops += 2 * n.shape.reduce<number>((acc, d) => acc * val(d), 1) * val(a.shape[a.shape.length - 1]);
  }
  return flops;
}

/** ORT's plain MatMul throughput on a [1024, 256] × [256, 704] product, the shape of the MLP projections. */
async function matmulPeak(threads: number, spin: boolean): Promise<number> {
  const [M, K, N] = [1024, 256, 704];
  const { graph, result } = E.trace(() => E.matmul(E.input("a", [M, K]), E.input("b", [K, N])));
  const prog = await E.Program.create(E.toOnnx(graph, { y: result }), { threads, spin });
  const feeds = {
    a: { data: new Float32Array(M * K).fill(0.5), dims: [M, K] },
    b: { data: new Float32Array(K * N).fill(0.5), dims: [K, N] },
  };
  const times: number[] = [];
  for (let i = 0; i < 25; i++) {
    const t = performance.now();
    await prog.run(feeds);
    times.push(performance.now() - t);
  }
  await prog.release();
  return (2 * M * K * N) / (Math.min(...times.slice(5)) * 1e6);
}

/**
 * Milliseconds per step by ONNX op type from an ORT profile file: each node's median kernel time over the runs,
 * summed by op type (medians keep a noisy shared machine from dominating the picture).
 */
async function profileByOp(dir: string): Promise<Record<string, number>> {
  const file = (await readdir(dir)).find((f) => f.endsWith(".json"));
  if (!file) return {};
  type Event = { cat?: string; name: string; dur: number; args?: { op_name?: string } };
  const events = JSON.parse(await readFile(path.join(dir, file), "utf8")) as Event[];
  const perNode = new Map<string, { op: string; durs: number[] }>();
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time") || !e.args?.op_name) continue;
    const entry = perNode.get(e.name) ?? { op: e.args.op_name, durs: [] };
    entry.durs.push(e.dur / 1000);
    perNode.set(e.name, entry);
  }
  const byOp: Record<string, number> = {};
  for (const { op, durs } of perNode.values()) byOp[op] = (byOp[op] ?? 0) + median(durs);
  const sorted = Object.entries(byOp).sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(sorted.map(([k, v]) => [k, Number(v.toFixed(2))]));
}

// ---- exports ----

export async function benchTrain(o: BenchTrainOptions): Promise<BenchTrainResult> {
  const threads = o.threads || os.availableParallelism();
  const cfg = newModelConfig({
    arch: "llama",
    vocabSize: o.vocab,
    hidden: o.hidden,
    layers: o.layers,
    heads: o.heads,
    kvHeads: o.kvHeads,
    intermediate: o.intermediate,
    bosTokenId: null,
    eosTokenId: 0,
    padTokenId: null,
    tieEmbeddings: false,
  });
  const [B, T] = [4 * o.groups, o.prompt + o.response];

  // Graph: summed response log-probs of 4G sequences → IOPO loss → gradients for every parameter.
  let t0 = performance.now();
  const { graph, result } = E.trace(() => {
    const ref = E.input("ref_logps", ["G", 4]);
    const weight = E.input("loss_weight", []); // 1/G: the mean over groups
    const { params, batch, table } = llamaInputs(cfg, "4*G");
    const lp = sequenceLogps(cfg, params, batch); // [4G]
    const loss = E.mul(E.reduceSum(iopoLossGraph(lp, E.reshape(ref, [-1]), 0.1), [0]), weight); // []
    const grads = E.grad(() => loss)(...params.values());
    return { loss, lp, ...Object.fromEntries(table.map((row, i) => [`grad:${row.key}`, grads[i]])) };
  });
  const model = E.toOnnx(graph, result);
  const buildMs = performance.now() - t0;
  t0 = performance.now();
  let prog = await E.Program.create(model, { threads, spin: o.spin === "on" });
  const sessionMs = performance.now() - t0;

  // Random tokens; loss on the response tokens.
  const params = initParams(cfg, 0);
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % o.vocab;
  const seqs = Array.from({ length: B }, () => ({
    prompt: Array.from({ length: o.prompt }, rand),
    response: Array.from({ length: o.response }, rand),
  }));
  const feeds: Record<string, E.Feed> = {
    ...batchFeeds(cfg, seqs),
    ...paramFeeds(params.table, params.tensors),
    ref_logps: { data: new Float32Array(B), dims: [o.groups, 4] },
    loss_weight: { data: Float32Array.of(1 / o.groups), dims: [] },
  };
  // Reference log-probs: the starting model, once, outside the timing.
  feeds.ref_logps = { data: Float32Array.from((await prog.run(feeds)).lp as Float32Array), dims: [o.groups, 4] };
  // Spin-waiting threads help on a quiet machine and hurt on a busy one: with "auto", try both, keep the faster.
  let spin = o.spin === "on";
  if (o.spin === "auto") {
    const other = await E.Program.create(model, { threads, spin: true });
    const best = { off: Infinity, on: Infinity };
    for (let i = 0; i < 3; i++)
      for (const [k, p] of [
        ["off", prog],
        ["on", other],
      ] as const) {
        const t = performance.now();
        await p.run(feeds);
        best[k] = Math.min(best[k], performance.now() - t);
      }
    spin = best.on < best.off;
    if (spin) {
      await prog.release();
      prog = other;
    } else await other.release();
  }

  // AdamW on all cores (ORT's threads are idle meanwhile); it owns the parameter and gradient arrays.
  const opt = new E.ParallelAdamW(
    params.table.map((row, i) => ({ data: params.tensors[i], decay: row.decay })),
    { lr: 1e-4 },
    o.adamwThreads || threads,
  );
  const gradInto = () =>
    Object.fromEntries(params.table.map((row, i) => [`grad:${row.key}`, { data: opt.grads[i], dims: row.shape }]));
  const stepMs: number[] = [];
  const adamMs: number[] = [];
  for (let s = 0; s < o.warmup + o.steps; s++) {
    const t = performance.now();
    // Gradients land in the optimizer's buffers (no fresh 4·params bytes per step).
    await prog.run({ ...feeds, ...paramFeeds(params.table, opt.params) }, undefined, gradInto());
    const ta = performance.now();
    await opt.step();
    const done = performance.now();
    if (s >= o.warmup) {
      stepMs.push(done - t);
      adamMs.push(done - ta);
    }
  }
  await prog.release();
  // The profile comes from a second session after the timing (profiling slows every run it records).
  let profile: Record<string, number> | undefined;
  if (o.profile) {
    const profDir = await mkdtemp(path.join(os.tmpdir(), "iopo-prof-"));
    const profiled = await E.Program.create(model, {
      threads,
      spin,
      profile: true,
      profilePrefix: path.join(profDir, "ort"),
    });
    const stepFeeds = { ...feeds, ...paramFeeds(params.table, opt.params) };
    for (let s = 0; s < Math.min(o.steps, 8); s++) await profiled.run(stepFeeds, undefined, gradInto());
    profiled.endProfiling();
    profile = await profileByOp(profDir);
    await profiled.release();
    await rm(profDir, { recursive: true, force: true });
  }
  await opt.close();
  const flops = matmulFlops(graph, Object.values(result), { G: o.groups, T, R: o.response });
  const stepMedian = median(stepMs);
  return {
    step_ms_median: Number(stepMedian.toFixed(2)),
    tokens_per_s: Math.round((B * T * 1000) / stepMedian),
    step_ms: stepMs.map((x) => Number(x.toFixed(1))),
    adamw_ms_median: Number(median(adamMs).toFixed(2)),
    parameters: countParams(params.table),
    tokens_per_step: B * T,
    matmul_gflop_per_step: Number((flops / 1e9).toFixed(3)),
    achieved_gflops: Number((flops / (stepMedian * 1e6)).toFixed(1)),
    matmul_peak_gflops: Number((await matmulPeak(threads, spin)).toFixed(1)),
    spin,
    graph_nodes: graph.nodes.length,
    onnx_nodes: model.nodeCount,
    build_ms: Math.round(buildMs),
    session_ms: Math.round(sessionMs),
    threads,
    adamw_threads: opt.shards.length,
    ...(profile ? { profile_ms_by_op: profile } : {}),
  };
}

/** Get or create the shared `bench` command group (other helpers add their own subcommands to it). */
export function benchGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "bench") ??
    program.command("bench").description("benchmarks that print numbers")
  );
}

export function registerBenchTrain(program: Command): void {
  benchGroup(program)
    .command("train")
    .description("time IOPO training steps (forward + backward + AdamW) of a random Llama on random tokens")
    .option("--vocab <n>", "vocab_size", "2048")
    .option("--hidden <n>", "hidden_size", "256")
    .option("--layers <n>", "num_hidden_layers", "4")
    .option("--heads <n>", "num_attention_heads", "4")
    .option("--kv-heads <n>", "num_key_value_heads", "4")
    .option("--intermediate <n>", "intermediate_size", "704")
    .option("--prompt <n>", "prompt tokens per sequence", "64")
    .option("--response <n>", "response tokens per sequence", "64")
    .option("--groups <n>", "IOPO groups per step (4 sequences each)", "2")
    .option("--steps <n>", "timed steps", "20")
    .option("--warmup <n>", "untimed steps first", "2")
    .option("--threads <n>", "ONNX Runtime intra-op threads (0: all cores)", "0")
    .option("--adamw-threads <n>", "threads of the AdamW update (0: as --threads; 1: no worker threads)", "0")
    .option("--spin <mode>", "ORT threads spin-wait: on (quiet machine), off (busy machine), auto (try both)", "auto")
    .option("--no-profile", "skip the per-op-type profile")
    .option("--json", "print one JSON object")
    .addHelpText("after", "\nExample:\n  iopo bench train --steps 20 --json")
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(BenchTrainOptionsSchema, raw, "bench train");
      if (o.hidden % o.heads !== 0 || o.heads % o.kvHeads !== 0)
        throw new ConfigError("bad model shape", {
          expected: "--hidden divisible by --heads, --heads by --kv-heads",
          got: `${o.hidden}/${o.heads}/${o.kvHeads}`,
        });
      const r = await benchTrain(o);
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(
          `step ${r.step_ms_median} ms (median of ${o.steps}), ${r.tokens_per_s} tokens/s, AdamW ${r.adamw_ms_median} ms (${r.adamw_threads} threads)\n` +
            `matmul ${r.matmul_gflop_per_step} GFLOP/step → ${r.achieved_gflops} GFLOP/s (ORT MatMul peak ${r.matmul_peak_gflops})\n` +
            `graph ${r.graph_nodes} nodes → ${r.onnx_nodes} ONNX nodes; build ${r.build_ms} ms, session ${r.session_ms} ms, ${r.threads} threads, spin ${r.spin ? "on" : "off"}\n`,
        );
        if (r.profile_ms_by_op)
          for (const [op, ms] of Object.entries(r.profile_ms_by_op).slice(0, 12))
            process.stdout.write(`  ${op.padEnd(20)} ${ms} ms/step\n`);
      }
    });
}
