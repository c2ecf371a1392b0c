// LoRA settings of a torch run: the one LoRA definition (model/lora.ts: targets, the adapter's parameter table in
// base-table order, lora_A [r, in] then lora_B [out, r]) with the seed of the A initialisation. The adapters
// themselves live in python/iopo_torch/lora.py.

import { LORA_MODULES, type LoraSpec, loraTable, type ModelConfig, type ParamSpec } from "../../model/index.ts";
import { loraOf as loraSpecOf, type TrainConfig } from "../config.ts";

// ---- types ----

/** The linear layers of a Llama/Qwen2 decoder layer an adapter may target (PEFT's "all-linear": all of them). */
export const LORA_TARGETS = LORA_MODULES;

export interface LoraSettings extends LoraSpec {
  /** Seed of the A initialisation. */
  readonly seed: number;
}

// ---- exports ----

/** The run's LoRA settings, or null for full fine-tuning. */
export function loraOf(c: TrainConfig): LoraSettings | null {
  const spec = loraSpecOf(c);
  return spec && { ...spec, seed: c.seed };
}

/** The adapter's rows (model/lora.ts). */
export function adapterTable(cfg: ModelConfig, l: LoraSpec): ParamSpec[] {
  return loraTable(cfg, l);
}
