// Shared-prefix packing: two sequences that share a prompt are scored in one row, laid out `y_b | x | y_a` in fixed
// slots (R | P | R), with position ids that restart at |x| for each response and split attention: the first S = R + P
// positions (y_b and the prompt) attend among themselves, the last R (y_a) attend to the prompt and themselves
// (positions R … T−1). Each response sees only the prompt and its own earlier tokens, so the log-probs equal separate
// rows (x, y_a), (x, y_b) while the prompt is computed once, and no query meets keys it can never see. An IOPO group
// is two rows (x1 | y1 | y2, x2 | y2 | y1), a DPO pair one. Uses the one decoder block of llama.ts.

import type { Node } from "../engine/index.ts";
import * as E from "../engine/index.ts";
import { ShapeError } from "../errors.ts";
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

/** One packed row: a prompt and the two responses that follow it, each scored as (prompt, response). */
export interface PackedRow {
  readonly prompt: readonly number[];
  readonly responses: readonly [readonly number[], readonly number[]];
}

/**
 * Graph inputs of a packed batch of B rows of T = P + 2R slots (prompt P, each response R), S = P + R. Responses are
 * numbered in row order: 0 = y_a (the last R slots), 1 = y_b (the first R).
 */
export interface PackedInputs {
  readonly ids: Node; // int64 [B, T]
  readonly rows: Node; // int64 [U] the distinct ids of the batch
  /**
   * int64 [B, 2, R] flat row (b·T + t) of the token that predicts target r of response k: distinct within each
   * response k (padded slots take unscored rows); the responses of a row share one (the prompt's last token).
   */
  readonly positions: Node;
  readonly targets: Node; // int64 [B, 2, R]
  readonly mask: Node; // float32 [B, 2, R] 1 on real targets
  readonly cos: Node; // float32 [B, 1, T, D] rotary tables at each token's position id
  readonly sin: Node; // float32 [B, 1, T, D]
  readonly bias: Node; // float32 [B, 1, S, S] the first block (y_b, prompt): 0 visible, -1e9 not
  readonly tail: Node; // float32 [B, 1, R, S] y_a over positions R … T−1 (prompt, y_a)
}

// ---- helpers ----

const NEG = -1e9;

// ---- exports ----

/** Graph inputs of a packed batch. */
export function packedInputs(cfg: ModelConfig, B: E.Dim = "B"): PackedInputs {
  const { D } = modelDims(cfg);
  return {
    ids: E.input("input_ids", [B, "T"], "int64"),
    rows: E.input("embed_rows", ["U"], "int64"),
    positions: E.input("positions", [B, 2, "R"], "int64"),
    targets: E.input("targets", [B, 2, "R"], "int64"),
    mask: E.input("loss_mask", [B, 2, "R"]),
    cos: E.input("rope_cos", [B, 1, "T", D]),
    sin: E.input("rope_sin", [B, 1, "T", D]),
    bias: E.input("attn_bias", [B, 1, "S", "S"]),
    tail: E.input("attn_bias_tail", [B, 1, "R", "S"]),
  };
}

/** Summed response log-probs of a packed batch: [B·2], row by row, y_a then y_b. */
export function packedLogps(cfg: ModelConfig, p: ParamNodes, b: PackedInputs, o: DecoderOptions = {}): Node {
  const m = modelDims(cfg);
  const split = { S: "S", R: "R", tail: b.tail };
  const { h } = decoder(cfg, p, b.ids, { ...b, split }, undefined, { ...o, rows: b.rows }); // [B, T, C]
  const [B, K, R] = b.positions.shape;
  const rows = E.reshape(h, [-1, m.C]); // [B·T, C]
  const k1 = (x: Node, k: number) => E.reshape(E.slice(x, 1, k, k + 1), [B, R]); // [B, R]
  // One gather per response: its rows are distinct, so each adjoint is an exact row scatter.
  const sums = Array.from({ length: K as number }, (_, k) => {
    const logits = lmHead(m, p, E.gather(rows, k1(b.positions, k), { unique: true })); // [B, R, V]
    const lp = E.logSoftmaxGather(logits, k1(b.targets, k)); // [B, R]
    return E.reshape(E.reduceSum(E.mul(lp, k1(b.mask, k)), [1]), [B, 1]); // [B, 1]
  });
  return E.reshape(E.concat(sums, 1), [-1]); // [B·2]
}

/**
 * Rows of sequences: consecutive pairs with the same prompt share a row. Returns null when the sequences do not
 * come in such pairs (then they are scored unpacked).
 */
export function packRows(seqs: readonly ScoredSequence[]): PackedRow[] | null {
  if (seqs.length % 2 !== 0) return null;
  const rows: PackedRow[] = [];
  for (let i = 0; i < seqs.length; i += 2) {
    const [a, b] = [seqs[i]!, seqs[i + 1]!];
    const prompt = a.prompt;
    if (b.prompt.length !== prompt.length || b.prompt.some((t, j) => t !== prompt[j])) return null;
    rows.push({ prompt, responses: [a.response, b.response] });
  }
  return rows;
}

/**
 * Feeds of `packedInputs` for rows in slots y_b (R) | prompt (P) | y_a (R), each right-padded; response k of a row
 * takes position ids |x|, |x|+1, … and may attend to the prompt and to its own earlier tokens only; padding sees
 * the prompt.
 */
export function packedFeeds(cfg: ModelConfig, rows: readonly PackedRow[]): Record<string, E.Feed> {
  const { D } = modelDims(cfg);
  const B = rows.length;
  if (B === 0) throw new ShapeError("no rows to pack", { expected: "at least one row" });
  const P = Math.max(...rows.map((r) => r.prompt.length));
  const R = Math.max(1, ...rows.flatMap((r) => r.responses.map((y) => y.length)));
  const [S, T] = [P + R, P + 2 * R];
  // The longest unpacked sequence: the position range, and the length dynamic RoPE scales for (as unpacked).
  const span = Math.max(1, ...rows.flatMap((r) => r.responses.map((y) => r.prompt.length + y.length)));
  checkSequenceLength(cfg, span);
  const table = ropeTables(cfg, span);
  const ids = new BigInt64Array(B * T);
  const positions = new BigInt64Array(B * 2 * R);
  const targets = new BigInt64Array(B * 2 * R);
  const mask = new Float32Array(B * 2 * R);
  const cos = new Float32Array(B * T * D);
  const sin = new Float32Array(B * T * D);
  const bias = new Float32Array(B * S * S).fill(NEG);
  const tail = new Float32Array(B * R * S).fill(NEG);
  for (const [b, row] of rows.entries()) {
    const x = row.prompt.length;
    const pos = new Int32Array(T); // position id of each slot (padding: 0)
    row.prompt.forEach((id, i) => {
      ids[b * T + R + i] = BigInt(id);
      pos[R + i] = i;
    });
    for (const [k, y] of row.responses.entries()) {
      const at = k === 0 ? S : 0; // y_a's slots start at S, y_b's at 0 (the prompt's at R)
      const scored = new Array<number>(R).fill(-1);
      const base = (b * 2 + k) * R;
      for (const [j, id] of y.entries()) {
        ids[b * T + at + j] = BigInt(id);
        pos[at + j] = x + j;
        // Target j is predicted by the slot before it: the prompt's last token for j = 0.
        if (x + j === 0) continue;
        scored[j] = j === 0 ? R + x - 1 : at + j - 1;
        targets[base + j] = BigInt(id);
        mask[base + j] = 1;
      }
      for (const [j, flat] of distinctRows(b, T, scored).entries()) positions[base + j] = BigInt(flat);
    }
    for (let t = 0; t < T; t++) {
      cos.set(table.cos.subarray(pos[t]! * D, (pos[t]! + 1) * D), (b * T + t) * D);
      sin.set(table.sin.subarray(pos[t]! * D, (pos[t]! + 1) * D), (b * T + t) * D);
    }
    const [ya, yb] = row.responses.map((y) => y.length);
    // First block, slots 0 … S−1: y_b (0 … R−1), then the prompt (R … S−1).
    for (let t = 0; t < S; t++) {
      const row0 = (b * S + t) * S;
      const inPrompt = t >= R && t < R + x;
      for (let s = R; s < R + x; s++) if (!inPrompt || s <= t) bias[row0 + s] = 0; // the prompt, causally
      if (t < yb) for (let s = 0; s <= t; s++) bias[row0 + s] = 0; // y_b's own earlier tokens
    }
    // Tail block: y_a's slots over positions R … T−1 (key index s: the prompt below P, y_a from P on).
    for (let j = 0; j < R; j++) {
      const row0 = (b * R + j) * S;
      for (let s = 0; s < x; s++) tail[row0 + s] = 0;
      if (j < ya) for (let i = 0; i <= j; i++) tail[row0 + P + i] = 0;
    }
  }
  const embedRows = distinctIds(ids);
  return {
    input_ids: { data: ids, dims: [B, T] },
    embed_rows: { data: embedRows, dims: [embedRows.length] },
    positions: { data: positions, dims: [B, 2, R] },
    targets: { data: targets, dims: [B, 2, R] },
    loss_mask: { data: mask, dims: [B, 2, R] },
    rope_cos: { data: cos, dims: [B, 1, T, D] },
    rope_sin: { data: sin, dims: [B, 1, T, D] },
    attn_bias: { data: bias, dims: [B, 1, S, S] },
    attn_bias_tail: { data: tail, dims: [B, 1, R, S] },
  };
}
