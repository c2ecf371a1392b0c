// The Llama / Qwen2 forward pass as a function on the engine's graph builder: token embedding, RMSNorm, rotary
// embedding (HF rotate-half), grouped-query attention with an additive mask (optionally over a KV cache), SwiGLU
// MLP, final norm, tied or untied head; and summed response log-probs. Also the data-side feeds of a scored batch.
// Dimension letters as in README.md: B batch, T time, C hidden, V vocab, H heads, Hkv kv heads, D head dim, I mlp.

import type { Node } from "../engine/index.ts";
import * as E from "../engine/index.ts";
import { CheckpointError, ShapeError } from "../errors.ts";
import { checkSequenceLength, type ModelConfig, type ModelDims, modelDims } from "./config.ts";
import { type HeldTensor, isHalfTensor, type ParamSpec, paramTable } from "./params.ts";
import { ropeTables } from "./rope.ts";

// ---- types ----

/** Graph inputs of the data side of a batch (all but the parameters). */
export interface BatchInputs {
  readonly ids: Node; // int64 [B, T] token ids
  readonly rows: Node; // int64 [U] the distinct ids of the batch (the embedding's gradient sums per id)
  /** int64 [B, R] flat row (b·T + t) of each token whose next token is scored; distinct, padding included. */
  readonly positions: Node;
  readonly targets: Node; // int64 [B, R] the token at position + 1 (anything where mask is 0)
  readonly mask: Node; // float32 [B, R] 1 on real response targets, 0 on padding
  readonly cos: Node; // float32 [T, D] rotary tables (HF layout, halves duplicated)
  readonly sin: Node; // float32 [T, D]
  readonly bias: Node; // float32 [1, 1, T, T] additive causal mask: 0 where visible, -1e9 where not
}

/** What attention needs besides the parameters (BatchInputs carries these for training and scoring). */
export interface AttentionInputs {
  readonly cos: Node; // float32 [T, D] or [B, 1, T, D]: rotary tables of the T new positions (HF layout)
  readonly sin: Node; // same shape as cos
  readonly bias: Node; // float32 [1|B, 1, T, S]: 0 where query t may see key s, -1e9 where not (S = T uncached)
  /**
   * Split attention for shared-prefix rows (model/packed.ts): the T = S + R positions are two blocks — the first S
   * attend among themselves under `bias` [B, 1, S, S]; the last R attend to positions R … T−1 under `tail`
   * [B, 1, R, S]. No query is scored against keys it can never see across the blocks.
   */
  readonly split?: { readonly S: E.Dim; readonly R: E.Dim; readonly tail: Node };
}

/** A KV cache of S slots per layer, fed and returned whole (the engine's shapes are static per run). */
export interface KvCacheInputs {
  readonly place: Node; // float32 [B, 1, S, T]: 1 where slot s receives new token t (0 columns for padding)
  readonly past: (layer: number) => { k: Node; v: Node }; // float32 [B, Hkv, S, D] each
}

interface LayerCache {
  readonly k: Node; // [B, Hkv, S, D]
  readonly v: Node; // [B, Hkv, S, D]
  readonly place: Node; // [B, 1, S, T]
}

/** How the decoder is traced for training. */
export interface DecoderOptions {
  /**
   * Recompute each layer's activations in the backward pass instead of keeping them (gradient checkpointing):
   * only the layer inputs live between the passes, for about one more forward pass of compute.
   */
  readonly checkpoint?: boolean;
  /** The distinct ids among the token ids (int64 [U]): the embedding's gradient then sums per id (E.embed). */
  readonly rows?: Node;
}

/** Parameter input nodes by HF key, in parameter-table order. */
export type ParamNodes = ReadonlyMap<string, Node>;

// ---- helpers ----

const NEG = -1e9;

/** The graph dtype of a held tensor: float32, or the half-precision format whose bits it holds. */
export const heldDtype = (t: HeldTensor): E.DType => (isHalfTensor(t) ? t.dtype : "float32");

/**
 * One graph input per row of the parameter table, named by its HF key; float32 unless `held` (the tensors that
 * will be fed, in table order) holds a row in half precision.
 */
export function paramInputs(table: readonly ParamSpec[], held?: readonly HeldTensor[]): ParamNodes {
  return new Map(
    table.map((row, i) => [row.key, E.input(row.key, row.shape, held?.[i] ? heldDtype(held[i]) : "float32")]),
  );
}

/** Data inputs; `B` may be a product such as "4*G" when another input names the symbol (IOPO groups). */
export function batchInputs(m: ModelDims, B: E.Dim = "B"): BatchInputs {
  return {
    ids: E.input("input_ids", [B, "T"], "int64"),
    rows: E.input("embed_rows", ["U"], "int64"),
    positions: E.input("positions", [B, "R"], "int64"),
    targets: E.input("targets", [B, "R"], "int64"),
    mask: E.input("loss_mask", [B, "R"]),
    cos: E.input("rope_cos", ["T", m.D]),
    sin: E.input("rope_sin", ["T", m.D]),
    bias: E.input("attn_bias", [1, 1, "T", "T"]), // causal only: right padding needs no per-row mask
  };
}

function param(p: ParamNodes, key: string): Node {
  const n = p.get(key);
  if (!n)
    throw new CheckpointError("the graph has no such parameter", {
      field: key,
      expected: "a key of the parameter table",
    });
  return n;
}

/** A weight matrix for a matmul with `x`: upcast per use (once x exists) when held in half precision. */
function weightOf(p: ParamNodes, key: string, x: Node): Node {
  const w = param(p, key);
  return E.isHalf(w.dtype) ? E.upcast(w, x) : w;
}

/** [B, T, n*D] → [B, n, T, D] */
const heads = (x: Node, n: number, D: number): Node =>
  E.transpose(E.reshape(x, [x.shape[0], x.shape[1], n, D]), [0, 2, 1, 3]);

/** Repeat kv heads for grouped-query attention: [B, Hkv, T, D] → [B, H, T, D]. */
function repeatKv(x: Node, H: number, Hkv: number, D: number): Node {
  if (H === Hkv) return x;
  const [B, , T] = x.shape;
  const x5 = E.reshape(x, [B, Hkv, 1, T, D]); // [B, Hkv, 1, T, D]
  return E.reshape(E.expand(x5, [B, Hkv, H / Hkv, T, D]), [B, H, T, D]); // [B, H, T, D]
}

/** The graph key of the LoRA scale α/r (a scalar constant the caller adds to the parameter nodes with an adapter). */
export const LORA_SCALE_KEY = "lora.scale";

/**
 * A linear layer of the block: y = x·Wᵀ (+ b), plus the LoRA branch (α/r)·(x·Aᵀ)·Bᵀ when the adapter's inputs
 * (`<module>.lora_A.weight`, `<module>.lora_B.weight`, model/lora.ts) are among the parameter nodes.
 */
function linearOf(p: ParamNodes, module: string, x: Node, bias: boolean): Node {
  const y = E.linear(x, weightOf(p, `${module}.weight`, x), bias ? param(p, `${module}.bias`) : undefined); // [B, T, out]
  const A = p.get(`${module}.lora_A.weight`);
  if (!A) return y;
  const low = E.linear(E.linear(x, A), param(p, `${module}.lora_B.weight`)); // [B, T, r] → [B, T, out]
  return E.add(y, E.mul(low, param(p, LORA_SCALE_KEY))); // [B, T, out]
}

// ---- sub-blocks: functions of (params, x) ----

/**
 * Self-attention of one layer. Without a cache the keys are the T new positions; with one, the new keys/values
 * are written into the layer's S slots (`place` [B, 1, S, T] one-hot: slot s receives new token t) and the
 * queries attend over all S slots. Returns the output and the keys/values attended over (the updated cache).
 */
function attention(
  m: ModelDims,
  p: ParamNodes,
  pre: string,
  x: Node,
  a: AttentionInputs,
  past?: LayerCache,
): { y: Node; k: Node; v: Node } {
  const { H, Hkv, D } = m;
  const lin = (name: string, bias: boolean) => E.scope(name, () => linearOf(p, `${pre}.${name}`, x, bias));
  const q = E.rope(heads(lin("q_proj", m.qkvBias), H, D), a.cos, a.sin); // [B, H, T, D]
  let k = E.rope(heads(lin("k_proj", m.qkvBias), Hkv, D), a.cos, a.sin); // [B, Hkv, T, D]
  let v = heads(lin("v_proj", m.qkvBias), Hkv, D); // [B, Hkv, T, D]
  if (past) {
    k = E.add(past.k, E.matmul(past.place, k)); // [B, Hkv, S, D]
    v = E.add(past.v, E.matmul(past.place, v)); // [B, Hkv, S, D]
  }
  // softmax(q·kᵀ/√D + bias)·v; q is scaled (T·D values) rather than the scores (T·S values).
  const attend = (q: Node, k: Node, v: Node, bias: Node) => {
    const scores = E.add(E.matmul(E.mul(q, 1 / Math.sqrt(D)), E.transposeLast(repeatKv(k, H, Hkv, D))), bias);
    return E.matmul(E.softmax(scores, -1), repeatKv(v, H, Hkv, D)); // [B, H, ·, D]
  };
  let att: Node; // [B, H, T, D]
  if (a.split) {
    const { S, R, tail } = a.split;
    const head = (t: Node) => E.sliceSpan(t, 2, [], S, [R]); // positions 0 … S−1
    const late = (t: Node) => E.sliceSpan(t, 2, [R], S, []); // positions R … T−1
    const first = attend(head(q), head(k), head(v), a.bias); // [B, H, S, D]
    const second = attend(E.sliceSpan(q, 2, [S], R, []), late(k), late(v), tail); // [B, H, R, D]
    att = E.concat([first, second], 2, q.shape[2]);
  } else att = attend(q, k, v, a.bias);
  const merged = E.reshape(E.transpose(att, [0, 2, 1, 3]), [att.shape[0], att.shape[2], H * D]); // [B, T, H*D]
  const y = E.scope("o_proj", () => linearOf(p, `${pre}.o_proj`, merged, m.oBias)); // [B, T, C]
  return { y, k, v };
}

function mlp(m: ModelDims, p: ParamNodes, pre: string, x: Node): Node {
  const lin = (name: string, h: Node) => E.scope(name, () => linearOf(p, `${pre}.${name}`, h, m.mlpBias));
  const gate = lin("gate_proj", x); // [B, T, I]
  const up = lin("up_proj", x); // [B, T, I]
  return lin("down_proj", E.mul(E.silu(gate), up)); // [B, T, C]
}

// ---- exports ----

/**
 * The decoder: embedding, then per layer x + attn(norm(x)) and x + mlp(norm(x)), then the final norm. The one
 * Llama block for training, scoring and KV-cache generation; `cache` switches attention to S cache slots and
 * returns the updated per-layer keys/values as `present` ({`present_k.i`, `present_v.i`}: [B, Hkv, S, D]).
 */
export function decoder(
  cfg: ModelConfig,
  p: ParamNodes,
  ids: Node,
  a: AttentionInputs,
  cache?: KvCacheInputs,
  o: DecoderOptions = {},
): { h: Node; present: Record<string, Node> } {
  const m = modelDims(cfg);
  const present: Record<string, Node> = {};
  const table = param(p, "model.embed_tokens.weight");
  const embed = () => (o.rows ? E.embed(table, ids, o.rows) : E.gather(table, ids));
  // A half-precision table (frozen) is gathered as stored and only its rows are upcast.
  let x = E.scope("embed_tokens", () => (E.isHalf(table.dtype) ? E.upcast(E.gather(table, ids)) : embed())); // [B, T, C]
  for (let i = 0; i < m.L; i++) {
    const pre = `model.layers.${i}`;
    const layer = (x: Node): Node => {
      const h = E.rmsNorm(x, param(p, `${pre}.input_layernorm.weight`), m.eps); // [B, T, C]
      const past = cache && { ...cache.past(i), place: cache.place };
      const att = E.scope("attn", () => attention(m, p, `${pre}.self_attn`, h, a, past));
      if (cache) [present[`present_k.${i}`], present[`present_v.${i}`]] = [att.k, att.v];
      const x2 = E.add(x, att.y); // [B, T, C]
      const h2 = E.rmsNorm(x2, param(p, `${pre}.post_attention_layernorm.weight`), m.eps); // [B, T, C]
      return E.add(
        x2,
        E.scope("mlp", () => mlp(m, p, `${pre}.mlp`, h2)),
      ); // [B, T, C]
    };
    const input = x;
    x = E.scope(`layers.${i}`, () =>
      o.checkpoint && !cache ? E.checkpoint((y) => [layer(y)], [input])[0]! : layer(input),
    );
  }
  return { h: E.rmsNorm(x, param(p, "model.norm.weight"), m.eps), present }; // [B, T, C]
}

/** Final hidden states [B, T, C] (after the last RMSNorm) of a batch of token ids. */
export function hidden(cfg: ModelConfig, p: ParamNodes, b: BatchInputs, o: DecoderOptions = {}): Node {
  return decoder(cfg, p, b.ids, b, undefined, { ...o, rows: b.rows }).h; // [B, T, C]
}

/** The LM head on hidden states: [..., C] → [..., V] (tied: the embedding matrix). */
export const lmHead = (m: ModelDims, p: ParamNodes, h: Node): Node =>
  E.scope("lm_head", () => E.linear(h, weightOf(p, m.tied ? "model.embed_tokens.weight" : "lm_head.weight", h)));

/** Logits [B, T, V] of a batch of token ids. */
export function forward(cfg: ModelConfig, p: ParamNodes, b: BatchInputs): Node {
  return lmHead(modelDims(cfg), p, hidden(cfg, p, b)); // [B, T, V]
}

/**
 * Log-probs summed over the response targets: [B]. Only the scored positions go through the LM head (the
 * prompt's logits are never needed), which saves a large share of the head's FLOPs and the V-wide softmax.
 */
export function sequenceLogps(cfg: ModelConfig, p: ParamNodes, b: BatchInputs, o: DecoderOptions = {}): Node {
  const m = modelDims(cfg);
  const h = hidden(cfg, p, b, o); // [B, T, C]
  const scored = E.gather(E.reshape(h, [-1, m.C]), b.positions, { unique: true }); // [B, R, C]
  const logits = lmHead(m, p, scored); // [B, R, V]
  const lp = E.logSoftmaxGather(logits, b.targets); // [B, R]
  return E.reduceSum(E.mul(lp, b.mask), [1]); // [B]
}

/** Build the parameter inputs and batch inputs for a config in the active graph. */
export function llamaInputs(
  cfg: ModelConfig,
  B: E.Dim = "B",
  held?: readonly HeldTensor[],
): { params: ParamNodes; batch: BatchInputs; table: ParamSpec[] } {
  const table = paramTable(cfg);
  return { params: paramInputs(table, held), batch: batchInputs(modelDims(cfg), B), table };
}

/**
 * Causal additive mask [B, 1, T, T]. With right padding this is also the padding mask: a real query never sees a
 * later (padded) key, and padded positions carry no loss. Written into `out` (zeros).
 */
export function causalBias(B: number, T: number, out: Float32Array = new Float32Array(B * T * T)): Float32Array {
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) out[(b * T + i) * T + j] = NEG;
  return out;
}

/** One sequence to score: prompt ids then response ids (the response tokens carry the loss). */
export interface ScoredSequence {
  readonly prompt: readonly number[];
  readonly response: readonly number[];
}

/**
 * Row b's R scored slots as flat rows b·T + t: slot r holds `scored[r]` (a position whose next token is scored,
 * or −1 for a padded slot); padded slots take the row's unscored positions in order, so all B·R rows are distinct
 * (a row has T ≥ R + 1 positions, at most R of them scored).
 */
export function distinctRows(b: number, T: number, scored: readonly number[]): number[] {
  const used = new Set(scored.filter((t) => t >= 0));
  let free = 0;
  return scored.map((t) => {
    if (t >= 0) return b * T + t;
    while (used.has(free)) free++;
    if (free >= T)
      throw new ShapeError("no unscored position left for a padded slot", { expected: `at most ${T} rows` });
    used.add(free);
    return b * T + free;
  });
}

/** The distinct token ids of a batch, ascending (the embedding's gradient rows). */
export function distinctIds(ids: BigInt64Array): BigInt64Array {
  return BigInt64Array.from(new Set(ids)).sort();
}

/**
 * Feeds for `batchInputs`: sequences right-padded with id 0 to the longest (T); for each response token, the
 * flat row of the position before it and its id, padded to the longest response (R) with mask 0 (padded slots
 * point at distinct unscored rows). Token t of a response is scored by log_softmax(logits[t-1])[ids[t]].
 * `pool`: arrays reused across calls (the feeds are valid until its next call).
 */
export function batchFeeds(
  cfg: ModelConfig,
  seqs: readonly ScoredSequence[],
  pool = new E.FeedPool(),
): Record<string, E.Feed> {
  const { D } = modelDims(cfg);
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.prompt.length + s.response.length));
  const R = Math.max(1, ...seqs.map((s) => s.response.length));
  const ids = pool.i64("ids", B * T);
  const positions = pool.i64("positions", B * R);
  const targets = pool.i64("targets", B * R);
  const mask = pool.f32("mask", B * R);
  for (const [b, s] of seqs.entries()) {
    for (const [t, id] of [...s.prompt, ...s.response].entries()) ids[b * T + t] = BigInt(id);
    const scored = new Array<number>(R).fill(-1);
    for (const [r, id] of s.response.entries()) {
      if (s.prompt.length + r === 0) continue; // the very first token has nothing before it to predict it
      scored[r] = s.prompt.length + r - 1;
      targets[b * R + r] = BigInt(id);
      mask[b * R + r] = 1;
    }
    for (const [r, row] of distinctRows(b, T, scored).entries()) positions[b * R + r] = BigInt(row);
  }
  checkSequenceLength(cfg, T);
  const { cos, sin } = ropeTables(cfg, T);
  const rows = distinctIds(ids);
  return {
    input_ids: { data: ids, dims: [B, T] },
    embed_rows: { data: rows, dims: [rows.length] },
    positions: { data: positions, dims: [B, R] },
    targets: { data: targets, dims: [B, R] },
    loss_mask: { data: mask, dims: [B, R] },
    rope_cos: { data: cos, dims: [T, D] },
    rope_sin: { data: sin, dims: [T, D] },
    attn_bias: { data: causalBias(1, T, pool.f32("bias", T * T)), dims: [1, 1, T, T] },
  };
}

/** Parameter feeds by HF key from a model's tensors (in parameter-table order); half-precision ones as their bits. */
export function paramFeeds(table: readonly ParamSpec[], tensors: readonly HeldTensor[]): Record<string, E.Feed> {
  return Object.fromEntries(
    table.map((row, i) => {
      const t = tensors[i]!;
      return [row.key, { data: isHalfTensor(t) ? t.bits : t, dims: row.shape }];
    }),
  );
}
