// `iopo bench train`: time the training step that `iopo train` runs (src/train/step.ts, built from a TrainConfig by
// the same functions) on a random Llama and random token records, with ONNX Runtime's MatMul peak and a per-op-type
// profile for context. Reference log-probs are computed once, outside the timing. Does not compare with PyTorch
// (scripts/bench-train.ts does).

import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import * as E from "../engine/index.ts";
import { ConfigError, IopoError } from "../errors.ts";
import {
  countParams,
  float32Tensors,
  type HeldTensor,
  halfHeld,
  initLora,
  initParams,
  loraTable,
  type ModelConfig,
  type ModelParams,
  newModelConfig,
  Rng,
} from "../model/index.ts";
import {
  LOSS_NAMES,
  LOSSES,
  type LossName,
  loraOf,
  lossOf,
  needsReference,
  resolveLoss,
  SEQUENCE_ORDER,
  type StepRun,
  stepOptions,
  type TokenizedRecord,
  TrainConfigSchema,
  TrainStep,
  tokenizedFromIds,
} from "../train/index.ts";
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
  method: z.enum(LOSS_NAMES as [LossName, ...LossName[]]).default("iopo"),
  sharedPrefix: z.boolean().default(true),
  /** Shared-prefix rows: split attention where it pays (as `iopo train`), always, or never (one mask). */
  splitAttention: z.enum(["auto", "on", "off"]).default("auto"),
  steps: Int(1).default(20),
  warmup: Int(0).default(2),
  threads: Int(0).default(0),
  profile: z.boolean().default(true),
  json: z.boolean().default(false),
  /** "0.5b": a Qwen2.5-0.5B shape (the model flags are ignored) with random weights rounded to BF16. */
  scale: z.enum(["ref", "0.5b"]).default("ref"),
  /** LoRA rank (0: full fine-tuning), α = 2r, all linear layers, as `iopo train --lora-rank`. */
  lora: Int(0).default(0),
  /** Recompute each layer in the backward pass, as `iopo train --grad-checkpointing`. */
  gradCheckpointing: z.boolean().default(false),
});
export type BenchTrainOptions = z.infer<typeof BenchTrainOptionsSchema>;

export interface BenchTrainResult {
  readonly step_ms_median: number;
  /** Sequence tokens (prompt + response of every scored sequence, as unpacked) trained per second. */
  readonly tokens_per_s: number;
  readonly step_ms: readonly number[];
  readonly adamw_ms_median: number;
  /** Median ms of the forward + backward runs (ORT) and of gradient accumulation, norm and clipping. */
  readonly graph_ms_median: number;
  readonly accumulate_ms_median: number;
  /** The method and the per-step losses (the same as `iopo train` prints for these records and settings). */
  readonly method: LossName;
  readonly shared_prefix: boolean;
  /** Whether the packed rows use split attention (model/packed.ts). */
  readonly split_attention: boolean;
  /** Records (IOPO groups, pairs or examples) trained per second. */
  readonly records_per_s: number;
  readonly losses: readonly number[];
  readonly parameters: number;
  readonly tokens_per_step: number;
  readonly matmul_gflop_per_step: number;
  readonly achieved_gflops: number;
  readonly matmul_peak_gflops: number;
  readonly graph_nodes: number;
  readonly onnx_nodes: number;
  /** Compiling the programs and the reference pass. */
  readonly session_ms: number;
  readonly threads: number;
  readonly profile_ms_by_op?: Readonly<Record<string, number>>;
  /** Per step, warm-up included: resident set after it and its peak during it (MB; Linux, else 0). */
  readonly rss_mb: readonly number[];
  readonly peak_rss_mb: readonly number[];
  /** Trained parameters (the adapter's with LoRA). */
  readonly trained_parameters: number;
}

// ---- helpers ----

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** VmRSS and VmHWM (peak) of this process in MB from /proc (0 where there is none). */
async function procMemory(): Promise<{ rss: number; peak: number }> {
  const text = await readFile("/proc/self/status", "utf8").catch(() => "");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
  return { rss: Math.round(kb("VmRSS") / 1024), peak: Math.round(kb("VmHWM") / 1024) };
}

/** Reset the peak (VmHWM) to the current RSS, so the next reading is the peak of one step (Linux ≥ 4.0). */
const resetPeak = () => writeFile("/proc/self/clear_refs", "5").catch(() => undefined);

/** Round every value to the nearest BF16 (ties to even), in place: weights as a BF16 checkpoint holds them. */
function roundToBf16(tensors: readonly Float32Array[]): void {
  for (const t of tensors) {
    const u = new Uint32Array(t.buffer, t.byteOffset, t.length);
    for (let i = 0; i < u.length; i++) {
      const x = u[i]!;
      u[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) << 16;
    }
  }
}

/**
 * A frozen base as `iopo train --lora-rank` holds a BF16 checkpoint (hfdir.ts `halfHeld`): the matrices but the
 * head's as their bfloat16 bits (values already rounded to BF16), the rest in Float32.
 */
function heldAsBf16(cfg: ModelConfig, params: ModelParams): HeldTensor[] {
  const half = halfHeld(cfg);
  return params.tensors.map((t, i) => {
    if (!half(params.table[i]!.key, params.table[i]!.shape)) return t;
    const u = new Uint32Array(t.buffer, t.byteOffset, t.length);
    const bits = new Uint16Array(t.length);
    for (let e = 0; e < bits.length; e++) bits[e] = u[e]! >>> 16;
    return { dtype: "bfloat16", bits };
  });
}

/** FLOPs of the live MatMul nodes with symbols bound (forward and backward: the graph holds both). */
function matmulFlops(graph: E.Graph, outputs: readonly E.Node[], bind: Record<string, number>): number {
  const sym = (s: string) => {
    if (/^\d+$/.test(s)) return Number(s);
    if (bind[s] === undefined) throw new IopoError(`matmulFlops: no size for the symbol ${s}`);
    return bind[s];
  };
  const val = (d: E.Dim) => (typeof d === "number" ? d : d.split("*").reduce((a, s) => a * sym(s), 1));
  let flops = 0;
  for (const n of E.liveNodes(graph, outputs)) {
    if (n.op !== "MatMul") continue;
    const a = graph.node(n.inputs[0]);
    flops += 2 * n.shape.reduce<number>((acc, d) => acc * val(d), 1) * val(a.shape[a.shape.length - 1]);
  }
  return flops;
}

/** ORT's plain MatMul throughput on a [1024, 256] × [256, 704] product, the shape of the MLP projections. */
async function matmulPeak(threads: number): Promise<number> {
  const [M, K, N] = [1024, 256, 704];
  const { graph, result } = E.trace(() => E.matmul(E.input("a", [M, K]), E.input("b", [K, N])));
  const prog = await E.Program.create(E.toOnnx(graph, { y: result }), { threads });
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

/** Random token records of the method's kind: `groups` records, prompt and response lengths as given. */
function randomRecords(o: BenchTrainOptions): TokenizedRecord[] {
  const rng = Rng.fromSeed(12345);
  const rand = () => Math.floor(rng.next() * o.vocab);
  const ids = (n: number) => Array.from({ length: n }, rand);
  const kind = LOSSES[o.method].kind;
  const S = SEQUENCE_ORDER[kind].length;
  const prompts = kind === "group" ? 2 : 1;
  const responses = S === 1 ? 1 : 2;
  return Array.from({ length: o.groups }, (_, i) =>
    tokenizedFromIds(
      `r${i}`,
      kind,
      Array.from({ length: prompts }, () => ids(o.prompt)),
      Array.from({ length: responses }, () => ids(o.response)),
    ),
  );
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

/**
 * What `iopo bench train` trains: a random Llama of the flags' shape (seed 0), random token records of the method's
 * kind, and the TrainConfig `iopo train` would get for them (one optimizer step = every record, one micro-batch,
 * lr 1e-4 constant, the default clipping). Exported so a test can run the same inputs through `iopo train`'s loop.
 */
export function benchSetup(o: BenchTrainOptions, records?: TokenizedRecord[]) {
  const threads = o.threads || os.availableParallelism();
  const cfg =
    o.scale === "0.5b"
      ? newModelConfig({
          arch: "qwen2",
          vocabSize: 151936,
          hidden: 896,
          layers: 24,
          heads: 14,
          kvHeads: 2,
          intermediate: 4864,
          maxPosition: 32768,
          bosTokenId: null,
          eosTokenId: 151645,
          padTokenId: 151643,
          tieEmbeddings: true,
        })
      : newModelConfig({
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
  const config = TrainConfigSchema.parse({
    method: o.method,
    model: "(bench)",
    data: "(bench)",
    out: "(bench)",
    batch: o.groups,
    accum: 1,
    lr: 1e-4,
    warmup: 0,
    schedule: "constant",
    threads,
    shared_prefix: o.sharedPrefix,
    grad_checkpointing: o.gradCheckpointing,
    ...(o.lora > 0 ? { lora_rank: o.lora } : {}),
  });
  const f32 = initParams(cfg, 0);
  if (o.scale === "0.5b") roundToBf16(f32.tensors);
  // The 0.5B shape stands for a BF16 checkpoint: a LoRA run holds its frozen base as stored (no Float32 copy kept).
  const params: ModelParams<HeldTensor> =
    o.scale === "0.5b" && o.lora > 0 ? { table: f32.table, tensors: heldAsBf16(cfg, f32) } : f32;
  return { cfg, config, threads, records: records ?? randomRecords(o), params };
}

/**
 * The bench's training step as `iopo train` builds it (the model's tensors handed to the optimizer, or with LoRA the
 * adapter on the frozen base), with reference log-probs computed once from the starting model (zeros for
 * reference-free methods).
 */
async function benchStep(o: BenchTrainOptions, setup: ReturnType<typeof benchSetup>, opts: { profile?: string } = {}) {
  const { cfg, config, records, params } = setup;
  const loss = resolveLoss(lossOf(config));
  const lora = loraOf(config);
  const table = lora ? loraTable(cfg, lora) : params.table;
  const initial = lora ? initLora(table, config.seed).tensors : float32Tensors(params.tensors);
  const step = await TrainStep.create(
    cfg,
    table,
    initial,
    loss,
    {
      ...stepOptions(config, records),
      ...(o.splitAttention === "auto" ? {} : { splitAttention: o.splitAttention === "on" }),
      ...(opts.profile ? { profile: opts.profile } : {}),
    },
    lora ? { scale: lora.alpha / lora.rank, base: params.tensors } : undefined,
  );
  const S = SEQUENCE_ORDER[loss.kind].length;
  const lp = needsReference(o.method)
    ? await step.logps(
        params.tensors,
        records.flatMap((r) => r.seqs),
      )
    : new Float32Array(records.length * S);
  const ref = records.map((_, i) => Float64Array.from(lp.subarray(i * S, (i + 1) * S)));
  return { step, table, S, run: () => step.run(records, ref, config.lr) };
}

/**
 * Steps of several variants of one bench configuration (e.g. shared prefix on and off) interleaved in one process:
 * each round runs one step of every variant, the order reversing from round to round, so the sides of a round see
 * the same minute of a machine whose speed drifts. Returns each variant's step times (ms), round by round.
 */
export async function benchInterleaved(
  o: BenchTrainOptions,
  variants: Readonly<Record<string, Partial<BenchTrainOptions>>>,
): Promise<Record<string, number[]>> {
  const names = Object.keys(variants);
  const steps: Awaited<ReturnType<typeof benchStep>>[] = [];
  try {
    // Each variant its own setup (the same seed, so the same records and starting weights), trained apart.
    for (const name of names) steps.push(await benchStep(o, benchSetup({ ...o, ...variants[name] })));
    const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = 0; round < o.warmup + o.steps; round++) {
      const order = round % 2 ? [...names.keys()].reverse() : [...names.keys()];
      for (const i of order) {
        const t = performance.now();
        await steps[i]!.run();
        if (round >= o.warmup) times[names[i]!]!.push(performance.now() - t);
      }
    }
    return times;
  } finally {
    for (const s of steps) await s.step.close();
  }
}

export async function benchTrain(o: BenchTrainOptions, records0?: TokenizedRecord[]): Promise<BenchTrainResult> {
  const setup = benchSetup(o, records0);
  const { threads, records, params } = setup;
  // A half-precision base left its Float32 random init behind as garbage (`iopo train` never makes one): collect it
  // before measuring, where the process was started with --expose-gc (the scale check's children are).
  (globalThis as { gc?: () => void }).gc?.();
  const profDir = o.profile ? await mkdtemp(path.join(os.tmpdir(), "iopo-prof-")) : null;
  const t0 = performance.now();
  const { step, table, S, run } = await benchStep(o, setup, profDir ? { profile: path.join(profDir, "ort") } : {});
  // Session creation and the reference pass.
  const sessionMs = performance.now() - t0;
  try {
    const runs: StepRun[] = [];
    const stepMs: number[] = [];
    const rss: number[] = [];
    const peak: number[] = [];
    for (let s = 0; s < o.warmup + o.steps; s++) {
      await resetPeak();
      const t = performance.now();
      const r = await run();
      const mem = await procMemory();
      rss.push(mem.rss);
      peak.push(mem.peak);
      if (o.scale === "0.5b")
        process.stderr.write(
          `  step ${s + 1}: ${((performance.now() - t) / 1000).toFixed(1)} s, loss ${r.loss.toFixed(4)}, RSS ${mem.rss} MB, peak ${mem.peak} MB\n`,
        );
      if (s >= o.warmup) {
        stepMs.push(performance.now() - t);
        runs.push(r);
      }
    }
    const profile = profDir ? await endProfile(step, profDir) : undefined;
    const traced = step.programs.traced;
    const T = o.prompt + o.response;
    // Packed rows hold a prompt and two responses; unpacked rows one sequence each.
    const packed = step.programs.packed;
    const flops = matmulFlops(traced.graph, Object.values(traced.outputs), {
      Rec: records.length,
      T: packed ? o.prompt + 2 * o.response : T,
      S: o.prompt + o.response, // packed rows: the first attention block (second response and prompt)
      R: o.response,
      // The distinct token ids of the batch (the embedding gradient's one-hot matmul).
      U: new Set(records.flatMap((r) => r.seqs.flatMap((q) => [...q.prompt, ...q.response]))).size,
    });
    const stepMedian = median(stepMs);
    const B = records.length * S;
    return {
      method: o.method,
      shared_prefix: packed,
      split_attention: step.programs.split,
      records_per_s: Number(((records.length * 1000) / stepMedian).toFixed(2)),
      step_ms_median: Number(stepMedian.toFixed(2)),
      tokens_per_s: Math.round((B * T * 1000) / stepMedian),
      step_ms: stepMs.map((x) => Number(x.toFixed(1))),
      graph_ms_median: Number(median(runs.map((r) => r.ms.graph)).toFixed(2)),
      accumulate_ms_median: Number(median(runs.map((r) => r.ms.accumulate)).toFixed(2)),
      adamw_ms_median: Number(median(runs.map((r) => r.ms.adamw)).toFixed(2)),
      losses: runs.map((r) => r.loss),
      parameters: countParams(params.table),
      trained_parameters: countParams(table),
      rss_mb: rss,
      peak_rss_mb: peak,
      tokens_per_step: B * T,
      matmul_gflop_per_step: Number((flops / 1e9).toFixed(3)),
      achieved_gflops: Number((flops / (stepMedian * 1e6)).toFixed(1)),
      matmul_peak_gflops: o.scale === "0.5b" ? 0 : Number((await matmulPeak(threads)).toFixed(1)),
      graph_nodes: traced.graph.nodes.length,
      onnx_nodes: traced.onnxNodes,
      session_ms: Math.round(sessionMs),
      threads,
      ...(profile ? { profile_ms_by_op: profile } : {}),
    };
  } finally {
    await step.close();
    if (profDir) await rm(profDir, { recursive: true, force: true });
  }
}

/** End the step's ORT profile and sum it by op type. */
async function endProfile(step: TrainStep, dir: string): Promise<Record<string, number>> {
  step.programs.endProfiling();
  return profileByOp(dir);
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
    .option("--groups <n>", "records per step (IOPO groups of 4 sequences; pairs of 2 for pair methods)", "2")
    .option("--method <name>", `the training method (${LOSS_NAMES.join(", ")})`, "iopo")
    .option("--no-shared-prefix", "score every sequence separately (as `iopo train --no-shared-prefix`)")
    .option("--split-attention <mode>", "shared-prefix rows: auto (where it pays, as iopo train), on, off", "auto")
    .option("--grad-checkpointing", "recompute each layer in the backward pass (as `iopo train --grad-checkpointing`)")
    .option("--steps <n>", "timed steps", "20")
    .option("--warmup <n>", "untimed steps first", "2")
    .option("--threads <n>", "ONNX Runtime intra-op threads (0: all cores)", "0")
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
          `${r.method} step ${r.step_ms_median} ms (median of ${o.steps}), ${r.tokens_per_s} tokens/s: graph ${r.graph_ms_median} ms, accumulate/clip ${r.accumulate_ms_median} ms, AdamW ${r.adamw_ms_median} ms\n` +
            `matmul ${r.matmul_gflop_per_step} GFLOP/step → ${r.achieved_gflops} GFLOP/s (ORT MatMul peak ${r.matmul_peak_gflops})\n` +
            `graph ${r.graph_nodes} nodes → ${r.onnx_nodes} ONNX nodes; compile + reference pass ${r.session_ms} ms, ${r.threads} threads\n`,
        );
        if (r.profile_ms_by_op)
          for (const [op, ms] of Object.entries(r.profile_ms_by_op).slice(0, 12))
            process.stdout.write(`  ${op.padEnd(20)} ${ms} ms/step\n`);
      }
    });
}
