// The ONE ordered parameter table of a Llama/Qwen2 model (STYLE 18): name, shape, HF key, transpose and decay flags.
// It drives allocation, init, checked loading (count, names, shapes), saving, optimizer groups and per-tensor tests.
// Nothing else lists parameters. Does not compute anything on the tensors except init and checks.

import { CheckpointError, IopoError } from "../errors.ts";
import { type ModelConfig, modelDims } from "./config.ts";

// ---- types ----

export interface ParamSpec {
  /** HF safetensors key, also the parameter's name everywhere in the project: `model.layers.0.self_attn.q_proj.weight`. */
  readonly key: string;
  /** Row-major shape as HF stores it, e.g. [out, in] for a Linear weight. */
  readonly shape: readonly number[];
  /** The forward multiplies by the transpose (HF Linear stores [out, in]; y = x·Wᵀ). */
  readonly transpose: boolean;
  /** AdamW weight decay applies (2-D and up decay; norms and biases do not). */
  readonly decay: boolean;
  /** How a fresh model initialises it: normal(0, initializer_range), ones (RMSNorm gains) or zeros (biases). */
  readonly init: "normal" | "ones" | "zeros";
  /** Decoder layer index, or null for embedding / final norm / head. */
  readonly layer: number | null;
}

/**
 * A frozen weight held as its half-precision checkpoint stores it: the 16-bit patterns, upcast to float32 per use in
 * the graph (engine/half.ts). Half the memory of Float32 values, and the same values.
 */
export interface HalfTensor {
  readonly dtype: "bfloat16" | "float16";
  readonly bits: Uint16Array;
}

/** A weight as held in memory: Float32 values, or (a frozen base's matrices) half-precision bits. */
export type HeldTensor = Float32Array | HalfTensor;

/**
 * A model's parameters: the table and one tensor per row, in table order. Float32 unless said otherwise: only a
 * frozen base (LoRA) holds `HalfTensor`s (hfdir.ts `loadModelDir(dir, { keepHalf: true })`).
 */
export interface ModelParams<T extends HeldTensor = Float32Array> {
  readonly table: readonly ParamSpec[];
  readonly tensors: T[];
}

export const isHalfTensor = (t: HeldTensor): t is HalfTensor => !(t instanceof Float32Array);

/** The tensors as Float32Arrays (weights to train); a half-precision one is a caller's error (frozen bases only). */
export function float32Tensors(tensors: readonly HeldTensor[]): Float32Array[] {
  return tensors.map((t) => {
    if (isHalfTensor(t))
      throw new IopoError("half-precision weights cannot be trained in place", {
        expected: "Float32 weights (load the model without keepHalf)",
        got: t.dtype,
      });
    return t;
  });
}

// ---- helpers ----

function spec(key: string, shape: number[], layer: number | null, init: ParamSpec["init"], transpose = false) {
  return { key, shape, layer, init, transpose, decay: shape.length >= 2 } satisfies ParamSpec;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

// ---- exports ----

/** The ordered parameter table for a config: embedding, L × (attn, mlp, norms), final norm, head unless tied. */
export function paramTable(cfg: ModelConfig): ParamSpec[] {
  const { V, C, L, H, Hkv, D, I, qkvBias, oBias, mlpBias, tied } = modelDims(cfg);
  const rows: ParamSpec[] = [spec("model.embed_tokens.weight", [V, C], null, "normal")]; // [V, C]
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}`;
    rows.push(spec(`${p}.input_layernorm.weight`, [C], i, "ones")); // [C]
    rows.push(spec(`${p}.self_attn.q_proj.weight`, [H * D, C], i, "normal", true)); // [H*D, C]
    if (qkvBias) rows.push(spec(`${p}.self_attn.q_proj.bias`, [H * D], i, "zeros")); // [H*D]
    rows.push(spec(`${p}.self_attn.k_proj.weight`, [Hkv * D, C], i, "normal", true)); // [Hkv*D, C]
    if (qkvBias) rows.push(spec(`${p}.self_attn.k_proj.bias`, [Hkv * D], i, "zeros")); // [Hkv*D]
    rows.push(spec(`${p}.self_attn.v_proj.weight`, [Hkv * D, C], i, "normal", true)); // [Hkv*D, C]
    if (qkvBias) rows.push(spec(`${p}.self_attn.v_proj.bias`, [Hkv * D], i, "zeros")); // [Hkv*D]
    rows.push(spec(`${p}.self_attn.o_proj.weight`, [C, H * D], i, "normal", true)); // [C, H*D]
    if (oBias) rows.push(spec(`${p}.self_attn.o_proj.bias`, [C], i, "zeros")); // [C]
    rows.push(spec(`${p}.post_attention_layernorm.weight`, [C], i, "ones")); // [C]
    rows.push(spec(`${p}.mlp.gate_proj.weight`, [I, C], i, "normal", true)); // [I, C]
    if (mlpBias) rows.push(spec(`${p}.mlp.gate_proj.bias`, [I], i, "zeros")); // [I]
    rows.push(spec(`${p}.mlp.up_proj.weight`, [I, C], i, "normal", true)); // [I, C]
    if (mlpBias) rows.push(spec(`${p}.mlp.up_proj.bias`, [I], i, "zeros")); // [I]
    rows.push(spec(`${p}.mlp.down_proj.weight`, [C, I], i, "normal", true)); // [C, I]
    if (mlpBias) rows.push(spec(`${p}.mlp.down_proj.bias`, [C], i, "zeros")); // [C]
  }
  rows.push(spec("model.norm.weight", [C], null, "ones")); // [C]
  if (!tied) rows.push(spec("lm_head.weight", [V, C], null, "normal", true)); // [V, C]
  return rows;
}

/** Total number of parameters of a table. */
export function countParams(table: readonly ParamSpec[]): number {
  let n = 0;
  for (const row of table) n += numel(row.shape);
  return n;
}

/** Zero-filled tensors for every row of the table. */
export function allocateParams(table: readonly ParamSpec[]): ModelParams {
  return { table, tensors: table.map((row) => new Float32Array(numel(row.shape))) };
}

/** The tensor of one key; throws naming the key if the table has no such row. */
export function getParam(params: ModelParams, key: string): Float32Array {
  const i = params.table.findIndex((row) => row.key === key);
  if (i < 0) throw new CheckpointError("no such parameter", { field: key, expected: "a key of the parameter table" });
  return params.tensors[i]!;
}

/** A loaded tensor: its shape and values (Float32 whatever dtype it was stored in, unless kept half). */
export interface LoadedTensor<T extends HeldTensor = Float32Array> {
  readonly shape: readonly number[];
  readonly data: T;
}

/**
 * Match loaded tensors against the table (STYLE 20): the count of keys, every name and every shape.
 * Fails with the lists of missing and unexpected keys by name, or the first shape mismatches, naming `path`.
 * A tied model's file may carry a redundant `lm_head.weight` (some exporters write it); it is ignored.
 */
export function paramsFromTensors<T extends HeldTensor = Float32Array>(
  table: readonly ParamSpec[],
  loaded: ReadonlyMap<string, LoadedTensor<T>>,
  path: string,
): ModelParams<T> {
  const expected = new Set(table.map((row) => row.key));
  const tiedHead = !expected.has("lm_head.weight") && loaded.has("lm_head.weight");
  const missing = table.filter((row) => !loaded.has(row.key)).map((row) => row.key);
  const unexpected = [...loaded.keys()].filter((k) => !expected.has(k) && !(tiedHead && k === "lm_head.weight"));
  const hint = "the weights do not match config.json; check num_hidden_layers, tie_word_embeddings and model_type";
  if (missing.length > 0 || unexpected.length > 0) {
    const list = (names: string[]) => (names.length === 0 ? "none" : names.join(", "));
    throw new CheckpointError("parameter keys do not match the model configuration", {
      path,
      expected: `${table.length} keys; missing: ${list(missing)}`,
      got: `${loaded.size} keys; unexpected: ${list(unexpected)}`,
      hint,
    });
  }
  const bad: string[] = [];
  for (const row of table) {
    const t = loaded.get(row.key)!;
    const same = t.shape.length === row.shape.length && t.shape.every((d, i) => d === row.shape[i]);
    if (!same) bad.push(`${row.key} [${t.shape.join(", ")}] (expected [${row.shape.join(", ")}])`);
  }
  if (bad.length > 0)
    throw new CheckpointError("parameter shapes do not match the model configuration", {
      path,
      expected: "every tensor shaped as the parameter table says",
      got: `${bad.length} mismatched: ${bad.slice(0, 8).join("; ")}${bad.length > 8 ? "; …" : ""}`,
      hint,
    });
  return { table, tensors: table.map((row) => loaded.get(row.key)!.data) };
}
