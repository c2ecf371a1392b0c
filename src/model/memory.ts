// The memory a run will need, estimated before anything is loaded: runtime, weights (in the precision they are
// held, and any extra copies), trainable state (gradient buffer, AdamW moments), and one forward + backward of a
// micro-batch on the engine, from constants fitted to measured peak RSS (docs/model.md, "Memory estimate"). Pure
// functions of the config and the run's shape, plus the refusal that names the estimate and the options that fit.
// Does not measure anything and does not know the CLI's flags beyond naming them in the hint.

import { ConfigError } from "../errors.ts";
import { type ModelConfig, modelDims } from "./config.ts";
import { countParams, paramTable } from "./params.ts";

// ---- types ----

/** The shape of a run, as far as memory goes. */
export interface MemoryRun {
  /** "full" fine-tuning, "lora" adapters on a frozen base, or "score" (forward only: logps, reference). */
  readonly mode: "full" | "lora" | "score";
  /** Sequences in one micro-batch (4 per IOPO group, 2 per pair). */
  readonly sequences: number;
  /** Sequences of one record, the smallest micro-batch (`--batch 1`): 4 for IOPO groups, 2 pairs, 1 SFT. @default 1 */
  readonly perRecord?: number;
  /** T: tokens of the longest sequence (prompt + response), e.g. --max-len. */
  readonly maxLen: number;
  /** R: scored (response) tokens per sequence. @default ceil(maxLen / 2) */
  readonly scored?: number;
  /**
   * Bytes per weight of a frozen (LoRA) base (4 = F32, 2 = BF16/F16 matrices held as stored and upcast per use; the
   * head stays F32). Full fine-tuning holds F32 whatever this says. @default 4
   */
  readonly weightBytes?: number;
  /** Extra full F32 copies of the weights held besides the model (e.g. a separate reference model). @default 0 */
  readonly weightCopies?: number;
  /** LoRA rank and target modules (mode "lora"). @default rank 8, q_proj and v_proj */
  readonly lora?: { readonly rank: number; readonly targets: readonly string[] };
  /** Gradient checkpointing: each layer's activations are recomputed in the backward pass. @default false */
  readonly checkpoint?: boolean;
}

/** Bytes by part, and their total. */
export interface MemoryEstimate {
  readonly parts: {
    /** Node, ONNX Runtime and the compiled programs. */
    readonly runtime: number;
    /** The model's weights (and extra copies). */
    readonly weights: number;
    /** Trainable state: the gradient buffer and the two AdamW moments, F32. */
    readonly optimizer: number;
    /** Activations kept for the backward pass and attention scores of one micro-batch. */
    readonly activations: number;
    /** Logits of the scored positions (the LM head's output and its softmax and gradient). */
    readonly logits: number;
    /** Gradient outputs and weight-shaped temporaries of one backward run. */
    readonly gradients: number;
  };
  readonly total: number;
}

/** A change to the run that fits the budget, with its estimate. */
export interface MemoryOption {
  readonly change: string; // e.g. "--lora-rank 8", "--batch 1, --max-len 512"
  readonly run: MemoryRun;
  readonly total: number;
}

// ---- helpers ----

/**
 * Fitted (non-negative least squares) to the growth of peak RSS over 16 training steps' forward + backward runs as
 * `iopo train` runs them (test/model/memory-probe.ts: ONNX Runtime's memory pattern off, gradients written into the
 * step's buffers; hidden 256–896, 2–8 layers, 4–16 heads, MLP 704–4864, vocab 2k–33k, 2–8 sequences of 128–512
 * tokens, each with and without gradient checkpointing; every run within −17%/+12%): float32 values kept per token
 * and layer per unit of hidden size, of MLP width, and per head and key; per scored token and vocabulary entry;
 * per parameter in a backward run; per token and layer per unit of hidden size with checkpointing.
 */
export const MEMORY_FIT = {
  perHidden: 0.5,
  perMlp: 6.85,
  perHeadKey: 2.3,
  perScoredVocab: 5.2,
  perParamBackward: 2.0,
  /** Node + ONNX Runtime + tsx before the first run, measured at 150–200 MB. */
  runtimeBytes: 200 * 2 ** 20,
  /** A forward-only run keeps about one layer of activations: this share of the backward's per-layer figure. */
  forwardShare: 2,
  /**
   * With gradient checkpointing: float32 values per token and layer per unit of hidden size kept between the passes
   * (the layer's input and its copy entering the recomputation), plus the backward's figure for one layer.
   */
  perCheckpointHidden: 4.8,
  /**
   * The fit's runs lie at −20%/+19% of measured (`npm run bench:memory`): activations, logits and gradients are
   * raised by this factor so that a refusal errs on the safe side rather than a run being killed part way.
   */
  margin: 1.15,
} as const;

/** Parameters of the LoRA adapters: r·(in + out) for each targeted linear weight. */
function loraParams(cfg: ModelConfig, rank: number, targets: readonly string[]): number {
  let n = 0;
  for (const row of paramTable(cfg))
    if (row.key.endsWith(".weight") && targets.some((t) => row.key.includes(`.${t}.`)))
      n += rank * (row.shape[0]! + row.shape[1]!);
  return n;
}

// ---- exports ----

/** Estimate the bytes a run needs (see MemoryEstimate for the parts). */
export function estimateMemory(cfg: ModelConfig, run: MemoryRun): MemoryEstimate {
  const m = modelDims(cfg);
  const P = countParams(paramTable(cfg));
  const B = run.sequences;
  const T = run.maxLen;
  const R = run.scored ?? Math.ceil(T / 2);
  const F = MEMORY_FIT;
  const lora = run.lora ?? { rank: 8, targets: ["q_proj", "v_proj"] };
  const trained = run.mode === "full" ? P : run.mode === "lora" ? loraParams(cfg, lora.rank, lora.targets) : 0;
  const heldBytes = run.mode === "full" ? 4 : (run.weightBytes ?? 4);
  // Per token and layer: the values the backward pass needs, in float32.
  const perTokenLayer = F.perHidden * m.C + F.perMlp * m.I + F.perHeadKey * m.H * T;
  const layers = run.mode === "score" ? F.forwardShare : run.checkpoint ? 1 : m.L;
  const kept = run.mode !== "score" && run.checkpoint ? F.perCheckpointHidden * m.C * m.L : 0;
  const parts = {
    runtime: F.runtimeBytes,
    // A half-precision base keeps its head ([V, C]) in float32 (hfdir.ts halfHeld).
    weights: heldBytes * (P - m.V * m.C) + 4 * m.V * m.C + 4 * P * (run.weightCopies ?? 0),
    optimizer: trained * 12, // gradient buffer + AdamW m and v, F32
    activations: F.margin * 4 * B * T * (layers * perTokenLayer + kept),
    logits: F.margin * 4 * B * R * m.V * (run.mode === "score" ? 2 : F.perScoredVocab),
    gradients: run.mode === "score" ? 0 : F.margin * 4 * F.perParamBackward * trained,
  };
  return { parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/** "1.9 GB" (GiB, one decimal). */
export const formatBytes = (n: number): string => `${(n / 2 ** 30).toFixed(1)} GB`;

/**
 * Changes that bring the run under `budget` bytes, least restrictive (largest fitting estimate) first: gradient
 * checkpointing, LoRA (rank 8) instead of full fine-tuning, one record per micro-batch (`--batch 1`, with more
 * accumulation), and the longest `--max-len` (a power of two ≥ 128) that fits — alone and combined. Empty when
 * none of them fits.
 */
export function memoryOptions(cfg: ModelConfig, run: MemoryRun, budget: number): MemoryOption[] {
  const out: MemoryOption[] = [];
  const perRecord = run.perRecord ?? 1;
  const add = (change: string[], r: MemoryRun) => {
    const total = estimateMemory(cfg, r).total;
    if (change.length > 0 && total <= budget) out.push({ change: change.join(", "), run: r, total });
  };
  const starts: [string[], MemoryRun][] = [[[], run]];
  if (run.mode !== "score" && !run.checkpoint) starts.push([["--grad-checkpointing"], { ...run, checkpoint: true }]);
  const modes: [string[], MemoryRun][] = [...starts];
  if (run.mode === "full")
    for (const [c, r] of starts) modes.push([[...c, "LoRA (--lora-rank 8)"], { ...r, mode: "lora" }]);
  for (const [m, base] of modes) {
    const batches: [string[], MemoryRun][] = [[m, base]];
    if (base.sequences > perRecord) batches.push([[...m, "--batch 1"], { ...base, sequences: perRecord }]);
    for (const [b, r] of batches) {
      add(b, r);
      if (estimateMemory(cfg, r).total <= budget) continue; // no need to shorten as well
      for (let len = 2 ** Math.floor(Math.log2(r.maxLen - 1)); len >= 128; len /= 2) {
        const shorter = { ...r, maxLen: len, scored: Math.min(r.scored ?? Math.ceil(len / 2), Math.ceil(len / 2)) };
        if (estimateMemory(cfg, shorter).total <= budget) {
          add([...b, `--max-len ${len}`], shorter);
          break;
        }
      }
    }
  }
  // A change that already fits alone makes every combination that adds to it redundant.
  const key = (o: MemoryOption) => o.change.split(", ").map((c) => c.replace(/ \d+$/, ""));
  const minimal = out.filter(
    (o) => !out.some((p) => p !== o && key(p).every((c) => key(o).includes(c)) && key(p).length < key(o).length),
  );
  return minimal.sort((a, b) => b.total - a.total);
}

/**
 * Refuse a run whose estimate exceeds `budget` bytes (e.g. the machine's memory), before anything is loaded, with
 * the estimate by part and the options that would fit, instead of being killed by the OS part way. `hint` replaces
 * the options (for commands without --lora-rank, --batch and --max-len).
 */
export function checkMemory(cfg: ModelConfig, run: MemoryRun, budget: number, path?: string, hint?: string): void {
  const est = estimateMemory(cfg, run);
  if (est.total <= budget) return;
  const parts = Object.entries(est.parts)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${formatBytes(v)}`)
    .join(", ");
  const options = memoryOptions(cfg, run, budget);
  throw new ConfigError("the run would need more memory than there is", {
    ...(path ? { path } : {}),
    expected: `at most ${formatBytes(budget)}`,
    got: `an estimated ${formatBytes(est.total)} (${parts}) for ${run.mode === "score" ? "scoring" : `${run.mode} training`} with ${run.sequences} sequences × ${run.maxLen} tokens per micro-batch`,
    hint: hint
      ? hint
      : options.length > 0
        ? `options that fit: ${options.map((o) => `${o.change} (≈ ${formatBytes(o.total)})`).join("; ")}`
        : "no single change fits: use a smaller model or a machine with more memory",
  });
}
