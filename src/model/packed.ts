// Shared-prefix packing: sequences that share a prompt are scored in one row, `x | y_a | y_b`, with position ids
// that restart at |x| for every response and a block attention mask, so each response sees only the prompt and
// itself — the log-probs equal separate rows (x, y_a), (x, y_b) while the prompt is computed once. An IOPO group is
// two rows (x1 | y1 | y2, x2 | y2 | y1), a DPO pair one. Uses the one decoder block of llama.ts.

import type { Node } from "../engine/index.ts";
import * as E from "../engine/index.ts";
import { checkSequenceLength, type ModelConfig, modelDims } from "./config.ts";
import {
  type DecoderOptions,
  decoder,
  distinctIds,
  distinctRows,
  lmHead,
  type ParamNodes,
  type ScoredSequence,
} from "./llama.ts";
import { ropeTables } from "./rope.ts";

// ---- types ----

/** One packed row: a prompt and the K responses that follow it, each scored as (prompt, response). */
export interface PackedRow {
  readonly prompt: readonly number[];
  readonly responses: readonly (readonly number[])[];
}

/** Graph inputs of a packed batch of B rows, T tokens, K responses per row of at most R scored tokens each. */
export interface PackedInputs {
  readonly ids: Node; // int64 [B, T]
  readonly rows: Node; // int64 [U] the distinct ids of the batch
  /**
   * int64 [B, K, R] flat row (b·T + t) of the token that predicts target r of response k: distinct within each
   * response k (padded slots take unscored rows); the responses of a row share one (the prompt's last token).
   */
  readonly positions: Node;
  readonly targets: Node; // int64 [B, K, R]
  readonly mask: Node; // float32 [B, K, R] 1 on real targets
  readonly cos: Node; // float32 [B, 1, T, D] rotary tables at each token's position id
  readonly sin: Node; // float32 [B, 1, T, D]
  readonly bias: Node; // float32 [B, 1, T, T] block-causal mask: 0 visible, -1e9 not
}

// ---- helpers ----

const NEG = -1e9;

// ---- exports ----

/** Graph inputs of a packed batch (K responses per row). */
export function packedInputs(cfg: ModelConfig, K: number, B: E.Dim = "B"): PackedInputs {
  const { D } = modelDims(cfg);
  return {
    ids: E.input("input_ids", [B, "T"], "int64"),
    rows: E.input("embed_rows", ["U"], "int64"),
    positions: E.input("positions", [B, K, "R"], "int64"),
    targets: E.input("targets", [B, K, "R"], "int64"),
    mask: E.input("loss_mask", [B, K, "R"]),
    cos: E.input("rope_cos", [B, 1, "T", D]),
    sin: E.input("rope_sin", [B, 1, "T", D]),
    bias: E.input("attn_bias", [B, 1, "T", "T"]),
  };
}

/** Summed response log-probs of a packed batch: [B·K], row by row, responses in row order. */
export function packedLogps(cfg: ModelConfig, p: ParamNodes, b: PackedInputs, o: DecoderOptions = {}): Node {
  const m = modelDims(cfg);
  const { h } = decoder(cfg, p, b.ids, b, undefined, { ...o, rows: b.rows }); // [B, T, C]
  const [B, K, R] = b.positions.shape;
  const rows = E.reshape(h, [-1, m.C]); // [B·T, C]
  const k1 = (x: Node, k: number) => E.reshape(E.slice(x, 1, k, k + 1), [B, R]); // [B, R]
  // One gather per response: its rows are distinct, so each adjoint is an exact row scatter.
  const sums = Array.from({ length: K as number }, (_, k) => {
    const logits = lmHead(m, p, E.gather(rows, k1(b.positions, k), { unique: true })); // [B, R, V]
    const lp = E.logSoftmaxGather(logits, k1(b.targets, k)); // [B, R]
    return E.reshape(E.reduceSum(E.mul(lp, k1(b.mask, k)), [1]), [B, 1]); // [B, 1]
  });
  return E.reshape(E.concat(sums, 1), [-1]); // [B·K]
}

/**
 * Rows of sequences: consecutive sequences with the same prompt share a row (K per row). Returns null when the
 * sequences do not come in runs of K equal prompts (then they are scored unpacked).
 */
export function packRows(seqs: readonly ScoredSequence[], K: number): PackedRow[] | null {
  if (K < 2 || seqs.length % K !== 0) return null;
  const rows: PackedRow[] = [];
  for (let i = 0; i < seqs.length; i += K) {
    const run = seqs.slice(i, i + K);
    const prompt = run[0]!.prompt;
    if (run.some((s) => s.prompt.length !== prompt.length || s.prompt.some((t, j) => t !== prompt[j]))) return null;
    rows.push({ prompt, responses: run.map((s) => s.response) });
  }
  return rows;
}

/**
 * Feeds of `packedInputs` for rows: right-padded to the longest row (T); response k of a row takes position ids
 * |x|, |x|+1, … and may attend to the prompt and to its own earlier tokens only; padding sees the prompt.
 */
export function packedFeeds(cfg: ModelConfig, rows: readonly PackedRow[]): Record<string, E.Feed> {
  const { D } = modelDims(cfg);
  const B = rows.length;
  const K = rows[0]!.responses.length;
  const T = Math.max(...rows.map((r) => r.prompt.length + r.responses.reduce((a, y) => a + y.length, 0)));
  const R = Math.max(1, ...rows.flatMap((r) => r.responses.map((y) => y.length)));
  // The longest unpacked sequence: the position range, and the length dynamic RoPE scales for (as unpacked).
  const span = Math.max(...rows.flatMap((r) => r.responses.map((y) => r.prompt.length + y.length)));
  checkSequenceLength(cfg, span);
  const table = ropeTables(cfg, span);
  const ids = new BigInt64Array(B * T);
  const positions = new BigInt64Array(B * K * R);
  const targets = new BigInt64Array(B * K * R);
  const mask = new Float32Array(B * K * R);
  const cos = new Float32Array(B * T * D);
  const sin = new Float32Array(B * T * D);
  const bias = new Float32Array(B * T * T).fill(NEG);
  for (const [b, row] of rows.entries()) {
    const P = row.prompt.length;
    // seg[t] = −1 for the prompt (and padding), k for response k; pos[t] = position id.
    const seg = new Int32Array(T).fill(-1);
    const pos = new Int32Array(T);
    for (let t = 0; t < T; t++) pos[t] = Math.min(t, span - 1);
    row.prompt.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
    });
    let at = P;
    for (const [k, y] of row.responses.entries()) {
      const scored = new Array<number>(R).fill(-1);
      const base = (b * K + k) * R;
      for (const [j, id] of y.entries()) {
        ids[b * T + at + j] = BigInt(id);
        seg[at + j] = k;
        pos[at + j] = P + j;
        // Target j of response k is predicted by the row token before it: the prompt's last token for j = 0.
        if (P + j === 0) continue;
        scored[j] = j === 0 ? P - 1 : at + j - 1;
        targets[base + j] = BigInt(id);
        mask[base + j] = 1;
      }
      for (const [j, flat] of distinctRows(b, T, scored).entries()) positions[base + j] = BigInt(flat);
      at += y.length;
    }
    for (let t = 0; t < T; t++) {
      cos.set(table.cos.subarray(pos[t]! * D, (pos[t]! + 1) * D), (b * T + t) * D);
      sin.set(table.sin.subarray(pos[t]! * D, (pos[t]! + 1) * D), (b * T + t) * D);
      for (let s = 0; s <= t; s++)
        if (seg[s] === -1 ? s < P || seg[t] === -1 : seg[s] === seg[t]) bias[(b * T + t) * T + s] = 0;
    }
  }
  const embedRows = distinctIds(ids);
  return {
    input_ids: { data: ids, dims: [B, T] },
    embed_rows: { data: embedRows, dims: [embedRows.length] },
    positions: { data: positions, dims: [B, K, R] },
    targets: { data: targets, dims: [B, K, R] },
    loss_mask: { data: mask, dims: [B, K, R] },
    rope_cos: { data: cos, dims: [B, 1, T, D] },
    rope_sin: { data: sin, dims: [B, 1, T, D] },
    attn_bias: { data: bias, dims: [B, 1, T, T] },
  };
}
