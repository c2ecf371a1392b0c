// LoRA adapters (Hu et al. 2021) in the PEFT layout: for each target linear W [out, in], A [r, in] and B [out, r]
// with y = x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ; A initialised as PEFT does (Kaiming-uniform, a = √5), B zeros. The adapter's
// own parameter table, its directory (adapter_config.json + adapter_model.safetensors, loadable by peft) and merging
// into the base. The graph side is llama.ts's linear (it adds the branch when the adapter's inputs exist).

import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { CheckpointError, ConfigError } from "../errors.ts";
import type { ModelConfig } from "./config.ts";
import { makeRng } from "./init.ts";
import { type ModelParams, numel, type ParamSpec, paramTable } from "./params.ts";
import { readSafetensors, writeSafetensors } from "./safetensors.ts";

// ---- types ----

/** The linear modules of a Llama/Qwen2 layer an adapter may target (PEFT's "all-linear" takes all of them). */
export const LORA_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] as const;
export type LoraModule = (typeof LORA_MODULES)[number];

export interface LoraSpec {
  /** r, the rank (8 in the authors' config). */
  readonly rank: number;
  /** α; the branch is scaled by α/r. */
  readonly alpha: number;
  /** Dropout on the branch's input (PEFT's lora_dropout). */
  readonly dropout: number;
  readonly targets: readonly LoraModule[];
}

/** adapter_config.json as PEFT writes and reads it (the fields iopo sets; others are kept when read). */
export const AdapterConfigSchema = z
  .object({
    peft_type: z.literal("LORA"),
    r: z.number().int().positive(),
    lora_alpha: z.number().positive(),
    lora_dropout: z.number().min(0).max(1).default(0),
    target_modules: z.union([z.array(z.string()), z.string()]),
    base_model_name_or_path: z.string().nullable().optional(),
    bias: z.string().default("none"),
    use_rslora: z.boolean().default(false),
  })
  .loose();
export type AdapterConfig = z.infer<typeof AdapterConfigSchema>;

/** A loaded adapter: its spec, its table and tensors (in table order), the base it was trained on. */
export interface Adapter {
  readonly spec: LoraSpec;
  readonly params: ModelParams;
  /** The base model directory, as adapter_config.json names it (resolved against the adapter directory). */
  readonly base: string | null;
}

// ---- helpers ----

const PEFT_PREFIX = "base_model.model.";
const ADAPTER_FILE = "adapter_model.safetensors";
const CONFIG_FILE = "adapter_config.json";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The target modules' weight rows of the base table (`model.layers.i.self_attn.q_proj.weight`, …). */
function targetRows(cfg: ModelConfig, targets: readonly LoraModule[]): ParamSpec[] {
  return paramTable(cfg).filter((row) => {
    const m = /\.(\w+_proj)\.weight$/.exec(row.key);
    return m !== null && (targets as readonly string[]).includes(m[1]!);
  });
}

// ---- exports ----

/** Parse `--lora-targets`: "all-linear" or a comma list of module names. */
export function parseLoraTargets(text: string): LoraModule[] {
  if (text === "all-linear" || text === "all") return [...LORA_MODULES];
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !(LORA_MODULES as readonly string[]).includes(n));
  if (bad.length > 0 || names.length === 0)
    throw new ConfigError("unknown LoRA target module", {
      field: "--lora-targets",
      expected: `all-linear or a comma list of ${LORA_MODULES.join(", ")}`,
      got: JSON.stringify(text),
    });
  return names as LoraModule[];
}

/** The module key of a LoRA row: `model.layers.0.self_attn.q_proj.lora_A.weight` → `model.layers.0.self_attn.q_proj`. */
export const loraModuleOf = (key: string): string => key.replace(/\.lora_[AB]\.weight$/, "");

/**
 * The adapter's parameter table: per target module (in base-table order) A [r, in] then B [out, r]. Keys are the
 * base module keys with `.lora_A.weight` / `.lora_B.weight` (PEFT adds `base_model.model.` in the file).
 */
export function loraTable(cfg: ModelConfig, spec: LoraSpec): ParamSpec[] {
  const rows: ParamSpec[] = [];
  for (const w of targetRows(cfg, spec.targets)) {
    const module = w.key.replace(/\.weight$/, "");
    const [out, inp] = w.shape as [number, number];
    rows.push({
      key: `${module}.lora_A.weight`,
      shape: [spec.rank, inp],
      transpose: true,
      decay: true,
      init: "normal",
      layer: w.layer,
    }); // [r, in]
    rows.push({
      key: `${module}.lora_B.weight`,
      shape: [out, spec.rank],
      transpose: true,
      decay: true,
      init: "zeros",
      layer: w.layer,
    }); // [out, r]
  }
  if (rows.length === 0)
    throw new ConfigError("no linear module of the model matches --lora-targets", {
      expected: LORA_MODULES.join(", "),
      got: spec.targets.join(","),
    });
  return rows;
}

/** Fresh adapter weights: A ~ U(−1/√in, 1/√in) (PEFT's Kaiming-uniform with a = √5), B = 0, so the model is unchanged. */
export function initLora(table: readonly ParamSpec[], seed: number): ModelParams {
  const rand = makeRng(seed);
  const tensors = table.map((row) => {
    const t = new Float32Array(numel(row.shape));
    if (row.key.endsWith("lora_A.weight")) {
      const bound = 1 / Math.sqrt(row.shape[1]!);
      for (let i = 0; i < t.length; i++) t[i] = (2 * rand() - 1) * bound;
    }
    return t;
  });
  return { table, tensors };
}

/** Write an adapter directory atomically (PEFT layout; tensors in float32). */
export async function saveAdapter(
  dir: string,
  spec: LoraSpec,
  params: ModelParams,
  base: string | null,
): Promise<void> {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp, { recursive: true });
  try {
    await writeAdapterFiles(tmp, spec, params, base);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The two adapter files, written into an existing directory (checkpoints write them beside their other files). */
export async function writeAdapterFiles(
  dir: string,
  spec: LoraSpec,
  params: ModelParams,
  base: string | null,
): Promise<void> {
  const config = {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    r: spec.rank,
    lora_alpha: spec.alpha,
    lora_dropout: spec.dropout,
    target_modules: [...spec.targets],
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    use_rslora: false,
    base_model_name_or_path: base,
  };
  await writeFile(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  await writeSafetensors(
    join(dir, ADAPTER_FILE),
    params.table.map((row, i) => ({
      name: PEFT_PREFIX + row.key,
      shape: row.shape,
      data: params.tensors[i]!,
      dtype: "F32",
    })),
  );
}

/** Whether a directory holds a LoRA adapter (adapter_config.json). */
export const isAdapterDir = (dir: string): Promise<boolean> => exists(join(dir, CONFIG_FILE));

/** Read an adapter directory against the base config it applies to: every key and shape is checked. */
export async function loadAdapter(dir: string, base: ModelConfig): Promise<Adapter> {
  const cfgPath = join(dir, CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(cfgPath, "utf8"));
  } catch (err) {
    throw new CheckpointError("cannot read the adapter configuration", { path: cfgPath, got: String(err) });
  }
  const parsed = AdapterConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new CheckpointError("not a LoRA adapter configuration iopo can apply", {
      path: cfgPath,
      field: parsed.error.issues[0]?.path.join("."),
      expected: 'peft_type "LORA" with r, lora_alpha and target_modules',
      got: parsed.error.issues[0]?.message,
    });
  const c = parsed.data;
  if (c.use_rslora || c.bias !== "none")
    throw new CheckpointError("this adapter uses options iopo does not apply", {
      path: cfgPath,
      expected: "use_rslora false and bias none",
      got: `use_rslora ${c.use_rslora}, bias ${c.bias}`,
    });
  const targets =
    typeof c.target_modules === "string"
      ? parseLoraTargets(c.target_modules)
      : parseLoraTargets(c.target_modules.join(","));
  const spec: LoraSpec = { rank: c.r, alpha: c.lora_alpha, dropout: c.lora_dropout, targets };
  const table = loraTable(base, spec);
  const file = join(dir, ADAPTER_FILE);
  const { tensors: loaded } = await readSafetensors(file);
  const byKey = new Map(
    [...loaded.entries()].map(([k, t]) => [k.replace(PEFT_PREFIX, "").replace(".default.", "."), t]),
  );
  const tensors = table.map((row) => {
    const t = byKey.get(row.key);
    if (t?.shape.length !== 2 || t.shape[0] !== row.shape[0] || t.shape[1] !== row.shape[1])
      throw new CheckpointError("the adapter does not fit the base model", {
        path: file,
        field: row.key,
        expected: `[${row.shape.join(", ")}]`,
        got: t ? `[${t.shape.join(", ")}]` : "missing",
        hint: "pass the base model the adapter was trained on",
      });
    return t.data;
  });
  const b = c.base_model_name_or_path ?? null;
  return {
    spec,
    params: { table, tensors },
    base: b && !isAbsolute(b) && (await exists(resolve(dir, b))) ? resolve(dir, b) : b,
  };
}

/** W + (α/r)·B·A for every adapted module: the base tensors with the adapter folded in (new arrays). */
export function mergeLora(base: ModelParams, adapter: Adapter): ModelParams {
  const scale = adapter.spec.alpha / adapter.spec.rank;
  const at = new Map(adapter.params.table.map((row, i) => [row.key, adapter.params.tensors[i]!]));
  const tensors = base.table.map((row, i) => {
    const w = base.tensors[i]!;
    const module = row.key.replace(/\.weight$/, "");
    const A = at.get(`${module}.lora_A.weight`);
    const B = at.get(`${module}.lora_B.weight`);
    if (!A || !B) return w;
    const [out, inp] = row.shape as [number, number];
    const r = adapter.spec.rank;
    const merged = Float32Array.from(w);
    for (let o = 0; o < out; o++)
      for (let k = 0; k < r; k++) {
        const b = scale * B[o * r + k]!;
        if (b === 0) continue;
        for (let j = 0; j < inp; j++) merged[o * inp + j]! += b * A[k * inp + j]!;
      }
    return merged;
  });
  return { table: base.table, tensors };
}
