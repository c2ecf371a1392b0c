// The training run's configuration: one zod schema with every option's meaning and default, spelled once; the CLI
// flags, the saved `train_config.json` and the docs table follow it. Precedence: defaults < --config file < flags.

import os from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { type LoraSpec, parseLoraTargets } from "../model/index.ts";
import { FORMS, LOSS_NAMES, type LossName, type LossParams, lossParams } from "./losses.ts";
import type { Schedule } from "./schedule.ts";

// ---- exports ----

/** Default reference-log-prob cache: $IOPO_CACHE or ~/.cache/iopo, then ref-logps/. */
export function defaultRefCache(): string {
  return join(process.env.IOPO_CACHE ?? join(os.homedir(), ".cache", "iopo"), "ref-logps");
}

export const TrainConfigSchema = z.strictObject({
  method: z
    .enum(LOSS_NAMES as [LossName, ...LossName[]])
    .describe(`Training method: the loss (${LOSS_NAMES.join(", ")}).`),
  model: z
    .string()
    .min(1)
    .describe("Starting model: a Hugging Face directory (config.json, model.safetensors, tokenizer.json)."),
  data: z.string().min(1).describe("Training data: groups / pairs / sft JSONL, LLaMA-Factory or TRL files."),
  out: z.string().min(1).describe("Run directory: checkpoints, metrics.jsonl, train_config.json."),
  ref: z.string().optional().describe("Reference model directory; default the starting model."),
  format: z
    .string()
    .optional()
    .describe("Data format (groups, pairs, sft, llamafactory, trl, tokens = pre-tokenized ids); default detected."),
  lr: z.number().positive().default(5e-6).describe("Peak learning rate."),
  epochs: z.number().int().positive().default(3).describe("Passes over the data (ignored when max_steps is set)."),
  max_steps: z.number().int().nonnegative().default(0).describe("Optimizer steps; 0 = epochs × steps per epoch."),
  stop_at: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe("Stop (with a checkpoint) after this step without changing the schedule; 0 = run to the end."),
  batch: z.number().int().positive().default(1).describe("Records per micro-batch (a group is 4 sequences, a pair 2)."),
  accum: z.number().int().positive().default(8).describe("Micro-batches per optimizer step (gradient accumulation)."),
  beta: z.number().positive().optional().describe("β of the preference losses (default 0.1; SimPO 2)."),
  form: z.enum(FORMS).default("sigmoid").describe("Preference form: sigmoid (the paper's), hinge, ipo."),
  label_smoothing: z.number().min(0).max(0.5).default(0).describe("Conservative label smoothing ε (sigmoid only)."),
  sft_weight: z.number().min(0).default(0).describe("γ of the SFT term on the preferred responses (0 = off)."),
  simpo_gamma: z.number().min(0).default(1).describe("SimPO's target reward margin γ."),
  orpo_lambda: z.number().positive().default(0.1).describe("ORPO's λ: weight of the odds-ratio term beside the NLL."),
  max_len: z
    .number()
    .int()
    .min(2)
    .default(1024)
    .describe("Longest sequence (prompt + response tokens); longer records are truncated and counted."),
  warmup: z.number().min(0).default(0.1).describe("Warm-up: a fraction of the steps when < 1, else a number of steps."),
  schedule: z.enum(["cosine", "linear", "constant"]).default("cosine").describe("Learning-rate shape after warm-up."),
  weight_decay: z.number().min(0).default(0).describe("AdamW decoupled weight decay (2-D weights only)."),
  adam_beta1: z.number().min(0).max(1).default(0.9).describe("AdamW β1 (first-moment decay)."),
  adam_beta2: z.number().min(0).max(1).default(0.999).describe("AdamW β2 (second-moment decay)."),
  adam_eps: z.number().positive().default(1e-8).describe("AdamW ε."),
  clip: z.number().min(0).default(1).describe("Clip the global gradient norm to this (0 = off)."),
  seed: z.number().int().nonnegative().default(0).describe("Seed of the data order."),
  save_every: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe("Save a checkpoint every n steps (0 = only at the end)."),
  resume: z.boolean().default(false).describe("Continue from the last checkpoint in --out."),
  ref_cache: z
    .string()
    .optional()
    .describe("Reference log-prob cache directory (default $IOPO_CACHE/ref-logps or ~/.cache/iopo/ref-logps)."),
  threads: z.number().int().nonnegative().default(0).describe("ONNX Runtime threads (0 = all cores)."),
  shared_prefix: z
    .boolean()
    .default(true)
    .describe(
      "Compute each group's (pair's) prompts once: pack y_b | x | y_a rows (one mask, split attention for long rows; same values).",
    ),
  // The PyTorch back end (src/train/torch). Optional without defaults: an embedded-engine run's train_config.json,
  // and so the identity a --resume compares, stays as it was.
  engine: z
    .enum(["ort", "torch"])
    .optional()
    .describe("Training engine: ort (embedded ONNX Runtime, the default) or torch (PyTorch ranks, python/iopo_torch)."),
  nproc: z.number().int().positive().optional().describe("torch: data-parallel ranks on this machine (default 1)."),
  nnodes: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("torch: machines of the run, for --print-launch (default 1; the global batch is batch·accum·ranks)."),
  device: z
    .enum(["cpu", "cuda"])
    .optional()
    .describe("torch: where the ranks compute (default cpu; cuda: one GPU per rank)."),
  dtype: z
    .enum(["fp32", "bf16"])
    .optional()
    .describe("torch: compute precision (default fp32; bf16 = autocast with fp32 master weights and moments)."),
  grad_checkpointing: z
    .boolean()
    .optional()
    .describe(
      "Recompute each layer's activations in the backward pass instead of keeping them (less memory, about one more forward pass). Embedded engine: on when the run would not fit otherwise; torch: off unless set.",
    ),
  fsdp: z.boolean().optional().describe("torch ≥ 2.1: shard weights, gradients and moments over the ranks (FSDP)."),
  print_launch: z
    .boolean()
    .optional()
    .describe("torch: prepare the run directory, print torchrun and Slurm lines for --nnodes machines, and exit."),
  // LoRA (PEFT layout: adapter_config.json + adapter_model.safetensors); the same flags for both engines.
  lora_rank: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe("LoRA rank r: train adapters on the frozen base (0 or unset = full fine-tuning; the paper: 8)."),
  lora_alpha: z.number().positive().optional().describe("LoRA α: the branch is scaled by α/r (default 2r)."),
  lora_dropout: z.number().min(0).max(1).optional().describe("Dropout on the LoRA branch's input (default 0)."),
  lora_targets: z
    .string()
    .optional()
    .describe("Linear layers with adapters: all-linear (default) or a list such as q_proj,k_proj,v_proj,o_proj."),
});
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** The run's LoRA adapter (model/lora.ts: rank, α default 2r, dropout, targets), or null for full fine-tuning. */
export function loraOf(c: TrainConfig): LoraSpec | null {
  if (!c.lora_rank) return null;
  return {
    rank: c.lora_rank,
    alpha: c.lora_alpha ?? 2 * c.lora_rank,
    dropout: c.lora_dropout ?? 0,
    targets: parseLoraTargets((c.lora_targets ?? "all-linear").trim()),
  };
}

/** The loss parameters of a config. */
export function lossOf(c: TrainConfig): LossParams {
  const beta = c.beta === undefined ? {} : { beta: c.beta };
  switch (c.method) {
    case "sft":
    case "sft-star":
      return lossParams({ name: c.method });
    case "orpo":
      return lossParams({ name: c.method, orpo_lambda: c.orpo_lambda });
    case "simpo":
      return lossParams({ name: c.method, ...beta, simpo_gamma: c.simpo_gamma, sft_weight: c.sft_weight });
    default:
      return lossParams({
        name: c.method,
        ...beta,
        form: c.form,
        label_smoothing: c.label_smoothing,
        sft_weight: c.sft_weight,
      });
  }
}

/** Steps of the run: max_steps, or epochs × ⌈records / (batch × accum)⌉. */
export function totalSteps(c: TrainConfig, records: number): number {
  return c.max_steps > 0 ? c.max_steps : c.epochs * Math.ceil(records / (c.batch * c.accum));
}

/** The learning-rate schedule of a config over `total` steps. */
export function scheduleOf(c: TrainConfig, total: number): Schedule {
  const warmup = c.warmup < 1 ? Math.round(c.warmup * total) : Math.round(c.warmup);
  return { lr: c.lr, total_steps: total, warmup_steps: Math.min(warmup, total), decay: c.schedule, min_ratio: 0 };
}
