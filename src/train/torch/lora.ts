// LoRA settings of a torch run: the flags resolved (rank, α default 2r, dropout, targets) and the adapter's
// parameter table (for each target weight of a decoder layer in parameter-table order: lora_A [r, in], then lora_B
// [out, r]), whose hash names the trained tensors in checkpoints. The adapters themselves live in
// python/iopo_torch/lora.py.

import { ConfigError } from "../../errors.ts";
import { type ModelConfig, type ParamSpec, paramTable } from "../../model/index.ts";
import type { TrainConfig } from "../config.ts";

// ---- types ----

/** The linear layers of a Llama/Qwen2 decoder layer an adapter may target (PEFT's "all-linear": all of them). */
export const LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;

export interface LoraSettings {
  readonly rank: number;
  readonly alpha: number;
  readonly dropout: number;
  readonly targets: readonly string[];
  /** Seed of the A initialisation. */
  readonly seed: number;
}

// ---- exports ----

/** The run's LoRA settings, or null for full fine-tuning. */
export function loraOf(c: TrainConfig): LoraSettings | null {
  if (!c.lora_rank) return null;
  const text = (c.lora_targets ?? "all-linear").trim();
  const targets = text === "all-linear" ? [...LORA_TARGETS] : text.split(",").map((t) => t.trim());
  for (const t of targets)
    if (!(LORA_TARGETS as readonly string[]).includes(t))
      throw new ConfigError(`--lora-targets names an unknown layer "${t}"`, {
        field: "--lora-targets",
        expected: `all-linear or a comma-separated list of ${LORA_TARGETS.join(", ")}`,
        got: text,
      });
  return {
    rank: c.lora_rank,
    alpha: c.lora_alpha ?? 2 * c.lora_rank,
    dropout: c.lora_dropout ?? 0,
    targets,
    seed: c.seed,
  };
}

/** The adapter's rows (decay: 2-D, as every row of the base table that is a matrix). */
export function adapterTable(cfg: ModelConfig, l: LoraSettings): ParamSpec[] {
  const rows: ParamSpec[] = [];
  for (const w of paramTable(cfg)) {
    const m = /^model\.layers\.\d+\.(self_attn|mlp)\.(\w+_proj)\.weight$/.exec(w.key);
    if (!m || !l.targets.includes(m[2]!)) continue;
    const [out, inp] = w.shape as [number, number];
    const module = w.key.slice(0, -".weight".length);
    const row = { transpose: true, decay: true, init: "normal", layer: w.layer } as const;
    rows.push({ ...row, key: `${module}.lora_A.weight`, shape: [l.rank, inp] });
    rows.push({ ...row, key: `${module}.lora_B.weight`, shape: [out, l.rank], init: "zeros" });
  }
  return rows;
}
