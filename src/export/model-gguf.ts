// A Hugging Face Llama/Qwen2 model directory as one GGUF file llama.cpp loads: architecture metadata, tokenizer
// and chat template, tensors renamed to llama.cpp's names (blk.N.attn_q, …), q/k rows of the "llama" architecture
// permuted from HF's half-split RoPE layout to llama.cpp's interleaved one, in f32, f16 or q8_0 (1-D tensors stay
// f32; a q8_0 tensor whose rows are not whole blocks falls back to f16, as llama.cpp's converter does). A LoRA
// adapter directory is merged into its base model first (W + (α/r)·B·A) and exported with the base's tokenizer.

import { readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import {
  isAdapterDir,
  loadAdapter,
  loadModelDir,
  type ModelConfig,
  type ModelDir,
  mergeLora,
  modelDims,
} from "../model/index.ts";
import { type GgufTensor, type GgufValue, type TensorDtype, writeGguf } from "./gguf-file.ts";
import { Q8_0_BLOCK } from "./quant.ts";
import { tokenizerMetadata } from "./tokenizer-gguf.ts";

// ---- types ----

/** The dtypes `iopo export --dtype` offers, and llama.cpp's general.file_type for each (LLAMA_FTYPE_*). */
export const EXPORT_DTYPES = { f32: 0, f16: 1, q8_0: 7 } as const;
export type ExportDtype = keyof typeof EXPORT_DTYPES;

export interface ExportGgufOptions {
  /** Weight type of 2-D tensors. @default "f32" */
  readonly dtype?: ExportDtype;
  /** general.name. @default the directory's base name */
  readonly name?: string;
  /** For an adapter directory: the base model. @default adapter_config.json's base_model_name_or_path */
  readonly base?: string;
}

export interface ExportGgufResult {
  readonly path: string;
  readonly bytes: number;
  readonly architecture: string;
  readonly tensors: number;
  /** How many tensors were stored in each ggml type. */
  readonly types: Record<TensorDtype, number>;
}

// ---- helpers ----

/** HF key suffix (after `model.layers.N.`) → llama.cpp tensor name (after `blk.N.`). */
const LAYER_NAMES: Record<string, string> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.o_proj.weight": "attn_output.weight",
  "self_attn.o_proj.bias": "attn_output.bias",
  "post_attention_layernorm.weight": "ffn_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
};
const TOP_NAMES: Record<string, string> = {
  "model.embed_tokens.weight": "token_embd.weight",
  "model.norm.weight": "output_norm.weight",
  "lm_head.weight": "output.weight",
};

/** llama.cpp's name for an HF parameter key; throws for a key it has no name for. */
export function ggufTensorName(key: string): string {
  const top = TOP_NAMES[key];
  if (top) return top;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(key);
  const rest = m ? LAYER_NAMES[m[2]!] : undefined;
  if (!m || !rest) throw new ConfigError("no GGUF name for tensor", { field: key, expected: "a Llama/Qwen2 tensor" });
  return `blk.${m[1]}.${rest}`;
}

/**
 * HF stores q/k rows per head as [first halves | second halves] (rotate_half RoPE); llama.cpp's "llama"
 * architecture rotates adjacent pairs. Row h·D + 2i + j of the result is row h·D + j·D/2 + i of `w` ([n·D, cols]).
 */
export function permuteRope(w: Float32Array, nHeads: number, cols: number): Float32Array {
  const D = w.length / cols / nHeads;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++)
    for (let i = 0; i < D / 2; i++)
      for (let j = 0; j < 2; j++) {
        const to = (h * D + 2 * i + j) * cols;
        const from = (h * D + j * (D / 2) + i) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
  return out;
}

/** The `general.*` and `<arch>.*` entries. */
function archMetadata(cfg: ModelConfig, name: string, dtype: ExportDtype): Map<string, GgufValue> {
  const arch = cfg.model_type;
  const m = modelDims(cfg);
  const u32 = (value: number): GgufValue => ({ kind: "u32", value });
  const f32 = (value: number): GgufValue => ({ kind: "f32", value });
  const out = new Map<string, GgufValue>([
    ["general.architecture", { kind: "string", value: arch }],
    ["general.type", { kind: "string", value: "model" }],
    ["general.name", { kind: "string", value: name }],
    ["general.file_type", u32(EXPORT_DTYPES[dtype])],
    ["general.quantization_version", u32(2)],
    ["general.alignment", u32(32)],
    [`${arch}.vocab_size`, u32(m.V)],
    [`${arch}.context_length`, u32(cfg.max_position_embeddings)],
    [`${arch}.embedding_length`, u32(m.C)],
    [`${arch}.feed_forward_length`, u32(m.I)],
    [`${arch}.block_count`, u32(m.L)],
    [`${arch}.attention.head_count`, u32(m.H)],
    [`${arch}.attention.head_count_kv`, u32(m.Hkv)],
    [`${arch}.rope.freq_base`, f32(m.ropeTheta)],
    [`${arch}.rope.dimension_count`, u32(m.D)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(m.eps)],
  ]);
  if (m.D * m.H !== m.C) {
    out.set(`${arch}.attention.key_length`, u32(m.D));
    out.set(`${arch}.attention.value_length`, u32(m.D));
  }
  return out;
}

/** Where the llama.cpp architectures cannot hold what the config describes, say so before writing anything. */
function checkSupported(cfg: ModelConfig, dir: string): void {
  const m = modelDims(cfg);
  if (cfg.model_type === "qwen2" && m.D * m.H !== m.C)
    throw new ConfigError("llama.cpp's qwen2 architecture needs head_dim × num_attention_heads = hidden_size", {
      path: join(dir, "config.json"),
      field: "head_dim",
      expected: String(m.C / m.H),
      got: String(m.D),
    });
}

/** The model's tensors in table order, renamed, permuted where needed, each with its stored dtype. */
function modelTensors(model: ModelDir, dtype: ExportDtype): GgufTensor[] {
  const cfg = model.config;
  const m = modelDims(cfg);
  const llama = cfg.model_type === "llama";
  return model.params.table.map((row, i) => {
    let data = model.params.tensors[i]!;
    const cols = row.shape.length === 2 ? row.shape[1]! : 1;
    if (llama && /self_attn\.q_proj\./.test(row.key)) data = permuteRope(data, m.H, cols);
    if (llama && /self_attn\.k_proj\./.test(row.key)) data = permuteRope(data, m.Hkv, cols);
    let type: TensorDtype = row.shape.length === 1 ? "f32" : dtype;
    if (type === "q8_0" && row.shape[row.shape.length - 1]! % Q8_0_BLOCK !== 0) type = "f16";
    return { name: ggufTensorName(row.key), shape: row.shape, dtype: type, data };
  });
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

// ---- exports ----

/** The base model directory of an adapter: `base`, else the one adapter_config.json names. */
async function adapterBase(dir: string, base: string | undefined): Promise<string> {
  if (base !== undefined) return base;
  const path = join(dir, "adapter_config.json");
  let named: unknown;
  try {
    named = (JSON.parse(await readFile(path, "utf8")) as { base_model_name_or_path?: unknown }).base_model_name_or_path;
  } catch (err) {
    throw new CheckpointError("cannot read the adapter configuration", { path, got: String(err) });
  }
  // Relative to the adapter (PEFT's habit for local bases), else to the working directory (as a --model flag was).
  let resolved: string | undefined;
  for (const candidate of typeof named === "string" && named !== "" ? [resolve(dir, named), resolve(named)] : [])
    if (!resolved && (await stat(candidate).catch(() => null))?.isDirectory()) resolved = candidate;
  if (!resolved)
    throw new ConfigError("the adapter's base model directory is not found", {
      path,
      field: "base_model_name_or_path",
      expected: "a local model directory (absolute, or relative to the adapter or the working directory)",
      got: typeof named === "string" ? JSON.stringify(named) : "none",
      hint: "pass the base model with --base <dir>",
    });
  return resolved;
}

/**
 * Load what `dir` exports: a full model with a tokenizer, or a LoRA adapter merged into its base (the base's
 * tokenizer and config; `base` overrides the adapter's own record of it).
 */
export async function loadExportable(dir: string, base?: string): Promise<ModelDir> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory())
    throw new CheckpointError("model directory not found", {
      path: dir,
      expected: "a Hugging Face model directory (config.json, model.safetensors, tokenizer.json)",
      got: info ? "a file" : "nothing at that path",
      hint: "pass --model-dir <dir> of a model made by `iopo init-model` or `iopo train`",
    });
  if (await isAdapterDir(dir)) {
    const baseDir = await adapterBase(dir, base);
    if (await isAdapterDir(baseDir))
      throw new ConfigError("the adapter's base is itself an adapter", {
        path: baseDir,
        expected: "a full model directory",
        hint: "pass the full base model with --base <dir>",
      });
    const model = await loadExportable(baseDir);
    const adapter = await loadAdapter(dir, model.config);
    return { ...model, params: mergeLora(model.params, adapter) };
  }
  if (!(await isFile(join(dir, "config.json"))))
    throw new CheckpointError("model directory has no config.json", {
      path: dir,
      hint: "pass the directory that holds config.json and model.safetensors",
    });
  if (!(await isFile(join(dir, "tokenizer.json"))))
    throw new CheckpointError("model directory has no tokenizer.json", {
      path: dir,
      expected: "tokenizer.json beside the weights (GGUF files carry their tokenizer)",
      hint: "copy tokenizer.json and tokenizer_config.json of the model's tokenizer into the directory",
    });
  return loadModelDir(dir);
}

/** Convert a model directory to a GGUF file at `out` (written atomically). */
export async function exportGguf(dir: string, out: string, options: ExportGgufOptions = {}): Promise<ExportGgufResult> {
  const dtype = options.dtype ?? "f32";
  if (!(dtype in EXPORT_DTYPES))
    throw new ConfigError("unknown GGUF dtype", {
      field: "dtype",
      expected: Object.keys(EXPORT_DTYPES).join(" | "),
      got: String(dtype),
    });
  const model = await loadExportable(dir, options.base);
  checkSupported(model.config, dir);
  const metadata = archMetadata(model.config, options.name ?? basename(resolve(dir)), dtype);
  const tokenizer = tokenizerMetadata(
    model.files["tokenizer.json"],
    model.files["tokenizer_config.json"],
    model.config,
  );
  for (const [k, v] of tokenizer) metadata.set(k, v);
  const tensors = modelTensors(model, dtype);
  const { bytes } = await writeGguf(out, metadata, tensors);
  const types: Record<TensorDtype, number> = { f32: 0, f16: 0, q8_0: 0 };
  for (const t of tensors) types[t.dtype] += 1;
  return { path: out, bytes, architecture: model.config.model_type, tensors: tensors.length, types };
}
