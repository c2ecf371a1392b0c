// The Llama / Qwen2 forward pass as a function on the engine's graph builder: token embedding, RMSNorm, rotary
// embedding (HF rotate-half), grouped-query attention with an additive mask, SwiGLU MLP, final norm, tied or untied
// head; and summed response log-probs. Also the data-side tables it is fed (RoPE cos/sin, causal+padding mask).
// Dimension letters as in README.md: B batch, T time, C hidden, V vocab, H heads, Hkv kv heads, D head dim, I mlp.

import type { Node } from "../engine/index.ts";
import * as E from "../engine/index.ts";
import { CheckpointError } from "../errors.ts";
import { type ModelConfig, type ModelDims, modelDims } from "./config.ts";
import { type ParamSpec, paramTable } from "./params.ts";

// ---- types ----

/** Graph inputs of the data side of a batch (all but the parameters). */
export interface BatchInputs {
  readonly ids: Node; // int64 [B, T] token ids
  readonly positions: Node; // int64 [B, R] positions whose next token is scored (response targets; 0 where padded)
  readonly targets: Node; // int64 [B, R] the token at position + 1 (anything where mask is 0)
  readonly mask: Node; // float32 [B, R] 1 on real response targets, 0 on padding
  readonly cos: Node; // float32 [T, D] rotary tables (HF layout, halves duplicated)
  readonly sin: Node; // float32 [T, D]
  readonly bias: Node; // float32 [1, 1, T, T] additive causal mask: 0 where visible, -1e9 where not
}

/** Parameter input nodes by HF key, in parameter-table order. */
export type ParamNodes = ReadonlyMap<string, Node>;

// ---- helpers ----

const NEG = -1e9;

/** One graph input per row of the parameter table, named by its HF key. */
export function paramInputs(table: readonly ParamSpec[]): ParamNodes {
  return new Map(table.map((row) => [row.key, E.input(row.key, row.shape)]));
}

/** Data inputs; `B` may be a product such as "4*G" when another input names the symbol (IOPO groups). */
export function batchInputs(m: ModelDims, B: E.Dim = "B"): BatchInputs {
  return {
    ids: E.input("input_ids", [B, "T"], "int64"),
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

// ---- sub-blocks: functions of (params, x) ----

function attention(m: ModelDims, p: ParamNodes, pre: string, x: Node, b: BatchInputs): Node {
  const { H, Hkv, D } = m;
  const lin = (name: string, bias: boolean) =>
    E.scope(name, () =>
      E.linear(x, param(p, `${pre}.${name}.weight`), bias ? param(p, `${pre}.${name}.bias`) : undefined),
    );
  const q = E.rope(heads(lin("q_proj", m.qkvBias), H, D), b.cos, b.sin); // [B, H, T, D]
  const k = E.rope(heads(lin("k_proj", m.qkvBias), Hkv, D), b.cos, b.sin); // [B, Hkv, T, D]
  const v = heads(lin("v_proj", m.qkvBias), Hkv, D); // [B, Hkv, T, D]
  const kT = E.transposeLast(repeatKv(k, H, Hkv, D)); // [B, H, D, T]
  // Scale q (T·D values) rather than the scores (T·T values).
  const scores = E.add(E.matmul(E.mul(q, 1 / Math.sqrt(D)), kT), b.bias); // [B, H, T, T]
  const y = E.matmul(E.softmax(scores, -1), repeatKv(v, H, Hkv, D)); // [B, H, T, D]
  const merged = E.reshape(E.transpose(y, [0, 2, 1, 3]), [y.shape[0], y.shape[2], H * D]); // [B, T, H*D]
  return E.scope("o_proj", () =>
    E.linear(merged, param(p, `${pre}.o_proj.weight`), m.oBias ? param(p, `${pre}.o_proj.bias`) : undefined),
  ); // [B, T, C]
}

function mlp(p: ParamNodes, pre: string, x: Node): Node {
  const gate = E.scope("gate_proj", () => E.linear(x, param(p, `${pre}.gate_proj.weight`))); // [B, T, I]
  const up = E.scope("up_proj", () => E.linear(x, param(p, `${pre}.up_proj.weight`))); // [B, T, I]
  return E.scope("down_proj", () => E.linear(E.mul(E.silu(gate), up), param(p, `${pre}.down_proj.weight`))); // [B, T, C]
}

// ---- exports ----

/** Final hidden states [B, T, C] (after the last RMSNorm) of a batch of token ids. */
export function hidden(cfg: ModelConfig, p: ParamNodes, b: BatchInputs): Node {
  const m = modelDims(cfg);
  let x = E.scope("embed_tokens", () => E.gather(param(p, "model.embed_tokens.weight"), b.ids)); // [B, T, C]
  for (let i = 0; i < m.L; i++) {
    const pre = `model.layers.${i}`;
    E.scope(`layers.${i}`, () => {
      const h = E.rmsNorm(x, param(p, `${pre}.input_layernorm.weight`), m.eps); // [B, T, C]
      x = E.add(
        x,
        E.scope("attn", () => attention(m, p, `${pre}.self_attn`, h, b)),
      ); // [B, T, C]
      const h2 = E.rmsNorm(x, param(p, `${pre}.post_attention_layernorm.weight`), m.eps); // [B, T, C]
      x = E.add(
        x,
        E.scope("mlp", () => mlp(p, `${pre}.mlp`, h2)),
      ); // [B, T, C]
    });
  }
  return E.rmsNorm(x, param(p, "model.norm.weight"), m.eps); // [B, T, C]
}

const lmHead = (m: ModelDims, p: ParamNodes, h: Node): Node =>
  E.scope("lm_head", () => E.linear(h, m.tied ? param(p, "model.embed_tokens.weight") : param(p, "lm_head.weight")));

/** Logits [B, T, V] of a batch of token ids. */
export function forward(cfg: ModelConfig, p: ParamNodes, b: BatchInputs): Node {
  return lmHead(modelDims(cfg), p, hidden(cfg, p, b)); // [B, T, V]
}

/**
 * Log-probs summed over the response targets: [B]. Only the scored positions go through the LM head (the
 * prompt's logits are never needed), which saves a large share of the head's FLOPs and the V-wide softmax.
 */
export function sequenceLogps(cfg: ModelConfig, p: ParamNodes, b: BatchInputs): Node {
  const m = modelDims(cfg);
  const h = hidden(cfg, p, b); // [B, T, C]
  const [B, R] = b.positions.shape;
  const idx = E.expand(E.reshape(b.positions, [B, R, 1]), [B, R, m.C]); // [B, R, C]
  const logits = lmHead(m, p, E.gatherElements(h, idx, 1)); // [B, R, V]
  const lp = E.logSoftmaxGather(logits, b.targets); // [B, R]
  return E.reduceSum(E.mul(lp, b.mask), [1]); // [B]
}

/** Build the parameter inputs and batch inputs for a config in the active graph. */
export function llamaInputs(
  cfg: ModelConfig,
  B: E.Dim = "B",
): { params: ParamNodes; batch: BatchInputs; table: ParamSpec[] } {
  const table = paramTable(cfg);
  return { params: paramInputs(table), batch: batchInputs(modelDims(cfg), B), table };
}

/** RoPE tables for positions 0..T-1 (HF: inv_freq = θ^(-2i/D), emb = cat(freqs, freqs)). */
export function ropeTables(T: number, D: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(T * D);
  const sin = new Float32Array(T * D);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < D / 2; i++) {
      const f = t * theta ** (-(2 * i) / D);
      cos[t * D + i] = cos[t * D + i + D / 2] = Math.cos(f);
      sin[t * D + i] = sin[t * D + i + D / 2] = Math.sin(f);
    }
  return { cos, sin };
}

/**
 * Causal additive mask [B, 1, T, T]. With right padding this is also the padding mask: a real query never sees a
 * later (padded) key, and padded positions carry no loss.
 */
export function causalBias(B: number, T: number): Float32Array {
  const out = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) out[(b * T + i) * T + j] = NEG;
  return out;
}

/**
 * The IOPO loss in the graph (DESIGN.md, "The IOPO objective"): lp and refLp are [4G] summed log-probs in the
 * collator's order (x1,y1), (x1,y2), (x2,y2), (x2,y1) per group. Returns the per-group losses [G] (G may be
 * symbolic, so the caller sums them and scales the gradient by 1/G for a mean).
 */
export function iopoLossGraph(lp: Node, refLp: Node, beta: number): Node {
  const rho = E.reshape(E.sub(lp, refLp), [-1, 4]); // [G, 4]: a = y1|x1, b = y2|x1, c = y2|x2, d = y1|x2
  const col = (i: number) => E.slice(rho, 1, i, i + 1); // [G, 1]
  const [a, b, c, d] = [col(0), col(1), col(2), col(3)];
  const pi1 = E.sub(E.mul(a, 2), E.add(b, d)); // [G, 1] Π1 = 2ρ(a) − ρ(b) − ρ(d)
  const pi2 = E.sub(E.mul(c, 2), E.add(d, b)); // [G, 1] Π2 = 2ρ(c) − ρ(d) − ρ(b)
  const z = E.mul(E.add(pi1, pi2), 0.5); // [G, 1]
  return E.neg(E.reshape(E.log(E.sigmoid(E.mul(z, beta))), [-1])); // [G]
}

/** One sequence to score: prompt ids then response ids (the response tokens carry the loss). */
export interface ScoredSequence {
  readonly prompt: readonly number[];
  readonly response: readonly number[];
}

/**
 * Feeds for `batchInputs`: sequences right-padded with id 0 to the longest (T); for each response token, the
 * position before it and its id, padded to the longest response (R) with mask 0. Token t of a response is scored
 * by log_softmax(logits[t-1])[ids[t]].
 */
export function batchFeeds(cfg: ModelConfig, seqs: readonly ScoredSequence[]): Record<string, E.Feed> {
  const { D } = modelDims(cfg);
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.prompt.length + s.response.length));
  const R = Math.max(1, ...seqs.map((s) => s.response.length));
  const ids = new BigInt64Array(B * T);
  const positions = new BigInt64Array(B * R);
  const targets = new BigInt64Array(B * R);
  const mask = new Float32Array(B * R);
  for (const [b, s] of seqs.entries()) {
    for (const [t, id] of [...s.prompt, ...s.response].entries()) ids[b * T + t] = BigInt(id);
    for (const [r, id] of s.response.entries()) {
      if (s.prompt.length + r === 0) continue; // the very first token has nothing before it to predict it
      positions[b * R + r] = BigInt(s.prompt.length + r - 1);
      targets[b * R + r] = BigInt(id);
      mask[b * R + r] = 1;
    }
  }
  const { cos, sin } = ropeTables(T, D, cfg.rope_theta);
  return {
    input_ids: { data: ids, dims: [B, T] },
    positions: { data: positions, dims: [B, R] },
    targets: { data: targets, dims: [B, R] },
    loss_mask: { data: mask, dims: [B, R] },
    rope_cos: { data: cos, dims: [T, D] },
    rope_sin: { data: sin, dims: [T, D] },
    attn_bias: { data: causalBias(1, T), dims: [1, 1, T, T] },
  };
}

/** Parameter feeds by HF key from a model's tensors (in parameter-table order). */
export function paramFeeds(table: readonly ParamSpec[], tensors: readonly Float32Array[]): Record<string, E.Feed> {
  return Object.fromEntries(table.map((row, i) => [row.key, { data: tensors[i], dims: row.shape }]));
}
