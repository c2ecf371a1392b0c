// A Hugging Face model directory: config.json, model.safetensors (or sharded with model.safetensors.index.json),
// tokenizer.json, tokenizer_config.json, generation_config.json, special_tokens_map.json. Loading checks every
// weight against the parameter table; saving writes a temporary sibling directory and renames it into place.
// Does not interpret the tokenizer (tokenizer.ts) or run the model.

import { readFile, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { CheckpointError } from "../errors.ts";
import { writeDirAtomic } from "../io/index.ts";
import { type ModelConfig, parseModelConfig } from "./config.ts";
import { isAdapterDir, loadAdapter, mergeLora } from "./lora.ts";
import { type HeldTensor, type LoadedTensor, type ModelParams, paramsFromTensors, paramTable } from "./params.ts";
import { openSafetensors, type WritableDtype, writeSafetensors } from "./safetensors.ts";

// ---- types ----

/** JSON side files copied through unchanged, by file name. */
export const SIDE_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "generation_config.json",
  "special_tokens_map.json",
] as const;
export type SideFile = (typeof SIDE_FILES)[number];

/** A loaded model directory; `T` is HeldTensor when loaded with `keepHalf` (a frozen base). */
export interface ModelDir<T extends HeldTensor = Float32Array> {
  readonly config: ModelConfig;
  readonly params: ModelParams<T>;
  /** The side files that exist, parsed. */
  readonly files: Partial<Record<SideFile, unknown>>;
}

/** Options of `saveModelDir`. */
export interface SaveOptions {
  /**
   * The dtype the weights are stored in; config.json's `torch_dtype` is set to match, so the directory always
   * says what it holds. @default the config's `torch_dtype` (bfloat16 → BF16, float16 → F16, anything else → F32)
   */
  readonly dtype?: WritableDtype;
}

// ---- helpers ----

const TORCH_NAMES: Record<WritableDtype, string> = { F32: "float32", F16: "float16", BF16: "bfloat16" };

/** The safetensors dtype a config names (transformers ≥ 4.56 also writes it as `dtype`). */
export function configDtype(config: ModelConfig): WritableDtype {
  const name = config.torch_dtype ?? (config as { dtype?: unknown }).dtype;
  return name === "bfloat16" ? "BF16" : name === "float16" ? "F16" : "F32";
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CheckpointError("cannot read file", { path, got: String(err), cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CheckpointError("file is not JSON", { path, got: (err as Error).message });
  }
}

/** The directory's safetensors file(s): model.safetensors, or the shards model.safetensors.index.json names. */
async function weightFiles(dir: string): Promise<string[]> {
  const single = join(dir, "model.safetensors");
  const index = join(dir, "model.safetensors.index.json");
  if (await exists(single)) return [single];
  if (await exists(index)) {
    const map = ((await readJson(index)) as { weight_map?: Record<string, string> }).weight_map ?? {};
    return [...new Set(Object.values(map))].map((f) => join(dir, f));
  }
  throw new CheckpointError("no weights in model directory", {
    path: dir,
    expected: "model.safetensors or model.safetensors.index.json",
    hint: "create a model with `iopo init-model --out <dir> --vocab-from <files>`",
  });
}

/**
 * All tensors of the directory's safetensors file(s), converted to Float32 — except the BF16/F16 tensors `keepHalf`
 * names, which stay as stored.
 */
async function readWeights(
  dir: string,
  keepHalf: (name: string, shape: readonly number[]) => boolean = () => false,
): Promise<{ tensors: Map<string, LoadedTensor<HeldTensor>>; path: string }> {
  const files = await weightFiles(dir);
  const index = join(dir, "model.safetensors.index.json");
  const tensors = new Map<string, LoadedTensor<HeldTensor>>();
  for (const file of files) {
    const reader = await openSafetensors(file);
    try {
      for (const t of reader.tensors) {
        if (tensors.has(t.name)) throw new CheckpointError("tensor stored twice", { path: file, field: t.name });
        const half = (t.dtype === "BF16" || t.dtype === "F16") && keepHalf(t.name, t.shape);
        tensors.set(t.name, { shape: t.shape, data: half ? await reader.readHalf(t.name) : await reader.read(t.name) });
      }
    } finally {
      await reader.close();
    }
  }
  return { tensors, path: files.length === 1 ? files[0]! : index };
}

// ---- exports ----

/** Read only config.json of a model directory. */
export async function loadModelConfig(dir: string): Promise<ModelConfig> {
  const path = join(dir, "config.json");
  // A LoRA adapter directory has its base's configuration.
  if (!(await exists(path)) && (await isAdapterDir(dir))) return loadModelConfig(await adapterBase(dir));
  return parseModelConfig(await readJson(path), path);
}

/**
 * Which stored BF16/F16 tensors a frozen base keeps in half precision: the matrices (rank ≥ 2) except the one the LM
 * head multiplies by (`lm_head.weight`, or the tied embedding). Upcast per use, the head would be a [V, C] float32
 * temporary every step — at 0.5B, 0.5 GB that ONNX Runtime's arena keeps — for a saving of the same size.
 */
export function halfHeld(config: ModelConfig): (name: string, shape: readonly number[]) => boolean {
  const head = config.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  return (name, shape) => shape.length >= 2 && name !== head;
}

/**
 * Whether a LoRA base loaded from `dir` would hold matrices in half precision: a model directory (not an adapter
 * directory, which loads merged into Float32) whose weights store some matrix but the head's as BF16/F16. Reads the
 * safetensors headers only.
 */
export async function holdsHalf(dir: string): Promise<boolean> {
  if (!(await exists(join(dir, "config.json")))) return false;
  const config = await loadModelConfig(dir);
  const half = halfHeld(config);
  // Missing weights are for the load to report (with its hint); the estimate only needs the dtypes that exist.
  const files = await weightFiles(dir).catch(() => [] as string[]);
  for (const file of files) {
    const reader = await openSafetensors(file);
    try {
      if (reader.tensors.some((t) => (t.dtype === "BF16" || t.dtype === "F16") && half(t.name, t.shape))) return true;
    } finally {
      await reader.close();
    }
  }
  return false;
}

/**
 * Load a model directory: config, every weight checked against the parameter table, and the side files. With
 * `keepHalf` (a frozen base: LoRA) BF16/F16 matrices stay in half precision (`HalfTensor`), half the memory —
 * all but the head's (`halfHeld`).
 */
export async function loadModelDir(dir: string, o: { keepHalf: boolean }): Promise<ModelDir<HeldTensor>>;
export async function loadModelDir(dir: string): Promise<ModelDir>;
export async function loadModelDir(dir: string, o: { keepHalf?: boolean } = {}): Promise<ModelDir<HeldTensor>> {
  // A LoRA adapter directory (adapter_config.json, no config.json) loads as its base with the adapter merged in.
  if (!(await exists(join(dir, "config.json"))) && (await isAdapterDir(dir))) return loadAdapterMerged(dir);
  const config = await loadModelConfig(dir);
  const { tensors, path } = await readWeights(dir, o.keepHalf ? halfHeld(config) : undefined);
  const params = paramsFromTensors(paramTable(config), tensors, path);
  const files: Partial<Record<SideFile, unknown>> = {};
  for (const name of SIDE_FILES) if (await exists(join(dir, name))) files[name] = await readJson(join(dir, name));
  return { config, params, files };
}

/** The local base model directory an adapter names (base_model_name_or_path, resolved against the adapter dir). */
async function adapterBase(dir: string): Promise<string> {
  const probe = (await readJson(join(dir, "adapter_config.json"))) as { base_model_name_or_path?: unknown };
  const named = typeof probe.base_model_name_or_path === "string" ? probe.base_model_name_or_path : null;
  const basePath = named && !isAbsolute(named) && (await exists(resolve(dir, named))) ? resolve(dir, named) : named;
  if (!basePath || !(await exists(join(basePath, "config.json"))))
    throw new CheckpointError("the adapter's base model is not a local model directory", {
      path: join(dir, "adapter_config.json"),
      field: "base_model_name_or_path",
      expected: "a local Hugging Face model directory (config.json + weights)",
      got: JSON.stringify(named),
      hint: `merge it yourself with \`iopo merge-lora --model <base dir> --adapter ${dir} --out <dir>\`, or fix base_model_name_or_path`,
    });
  return basePath;
}

/**
 * An adapter directory as a model: its base (adapter_config.json's base_model_name_or_path, resolved against the
 * adapter directory) with W + (α/r)·B·A folded in; the adapter directory's tokenizer files win over the base's.
 */
async function loadAdapterMerged(dir: string): Promise<ModelDir> {
  const basePath = await adapterBase(dir);
  const base = await loadModelDir(basePath);
  const adapter = await loadAdapter(dir, base.config);
  const files = { ...base.files };
  for (const name of SIDE_FILES) if (await exists(join(dir, name))) files[name] = await readJson(join(dir, name));
  return { config: base.config, params: mergeLora(base.params, adapter), files };
}

/**
 * Write a model directory atomically: everything goes to `<dir>.tmp-…`, which then replaces `dir` (an existing
 * `dir` is moved aside and removed only after the rename succeeded). Weights are in table order, in the dtype the
 * config names (or `o.dtype`), rounded to nearest even; a tied head is not written (transformers re-ties it).
 */
export async function saveModelDir(dir: string, model: ModelDir, o: SaveOptions = {}): Promise<void> {
  try {
    await writeDirAtomic(dir, async (tmp) => {
      const dtype = o.dtype ?? configDtype(model.config);
      const config = { ...model.config, torch_dtype: TORCH_NAMES[dtype] };
      if ("dtype" in config) config.dtype = TORCH_NAMES[dtype];
      await writeFile(join(tmp, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
      const { table, tensors } = model.params;
      await writeSafetensors(
        join(tmp, "model.safetensors"),
        table.map((row, i) => ({ name: row.key, shape: row.shape, data: tensors[i]!, dtype })),
      );
      for (const name of SIDE_FILES)
        if (model.files[name] !== undefined)
          await writeFile(join(tmp, name), `${JSON.stringify(model.files[name], null, 2)}\n`);
    });
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError("cannot write model directory", { path: dir, got: String(err), cause: err });
  }
}
