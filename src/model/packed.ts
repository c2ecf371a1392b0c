// Shared-prefix packing: two sequences that share a prompt are scored in one row, laid out `y_b | x | y_a` in fixed
// slots (R | P | R), with position ids that restart at |x| for each response and an attention mask under which each
// response sees only the prompt and its own earlier tokens, so the log-probs equal separate rows (x, y_a), (x, y_b)
// while the prompt is computed once. Long rows split the attention in two blocks so that no query meets keys it can
// never see: the first S = R + P positions (y_b and the prompt) attend among themselves, the last R (y_a) to the
// prompt and themselves (positions R … T−1). An IOPO group is two rows (y2 | x1 | y1, y1 | x2 | y2), a DPO pair one.
// Uses the one decoder block of llama.ts.

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
  /** float32 additive mask, 0 visible, -1e9 not: [B, 1, T, T], or with split attention the first block [B, 1, S, S]. */
  readonly bias: Node;
  /** Split attention only: float32 [B, 1, R, S], y_a over positions R … T−1 (the prompt, y_a). */
  readonly tail?: Node;
}

// ---- helpers ----

const NEG = -1e9;

// ---- exports ----

/**
 * Split attention pays where a row's second block holds at least this many scores (R·S per head): below it the
 * slices and joins it adds cost more than the scores it saves. Measured on the bench model (docs/engine.md): a step
 * 5–10% slower at R·S = 8,192 (prompt 64 + response 64), within ±4% at 28,672 (144 + 112), 0–9% faster at 231,410
 * (413 + 317, TRACE's length).
 */
export const SPLIT_MIN_SCORES = 16384;

/** Whether split attention pays for these rows (the median row's R·S against SPLIT_MIN_SCORES). */
export function splitPays(rows: readonly { prompt: number; responses: readonly number[] }[]): boolean {
  if (rows.length === 0) return false;
  const scores = rows
    .map((r) => Math.max(...r.responses) * (r.prompt + Math.max(...r.responses)))
    .sort((a, b) => a - b);
  return scores[(scores.length - 1) >> 1]! >= SPLIT_MIN_SCORES;
}

/** Graph inputs of a packed batch; `split`: split attention (two masks). */
export function packedInputs(cfg: ModelConfig, B: E.Dim = "B", split = false): PackedInputs {
  const { D } = modelDims(cfg);
  const masks = split
    ? { bias: E.input("attn_bias", [B, 1, "S", "S"]), tail: E.input("attn_bias_tail", [B, 1, "R", "S"]) }
    : { bias: E.input("attn_bias", [B, 1, "T", "T"]) };
  return {
    ids: E.input("input_ids", [B, "T"], "int64"),
    rows: E.input("embed_rows", ["U"], "int64"),
    positions: E.input("positions", [B, 2, "R"], "int64"),
    targets: E.input("targets", [B, 2, "R"], "int64"),
    mask: E.input("loss_mask", [B, 2, "R"]),
    cos: E.input("rope_cos", [B, 1, "T", D]),
    sin: E.input("rope_sin", [B, 1, "T", D]),
    ...masks,
  };
}

/** Summed response log-probs of a packed batch: [B·2], row by row, y_a then y_b. */
export function packedLogps(cfg: ModelConfig, p: ParamNodes, b: PackedInputs, o: DecoderOptions = {}): Node {
  const m = modelDims(cfg);
  const split = b.tail ? { split: { S: "S", R: "R", tail: b.tail } } : {};
  const { h } = decoder(cfg, p, b.ids, { ...b, ...split }, undefined, { ...o, rows: b.rows }); // [B, T, C]
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
 * the prompt. `split`: the masks of split attention (as the graph was built). `pool`: arrays reused across calls
 * (the feeds are valid until its next call).
 */
export function packedFeeds(
  cfg: ModelConfig,
  rows: readonly PackedRow[],
  split = false,
  pool = new E.FeedPool(),
): Record<string, E.Feed> {
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
  const ids = pool.i64("ids", B * T);
  const positions = pool.i64("positions", B * 2 * R);
  const targets = pool.i64("targets", B * 2 * R);
  const mask = pool.f32("mask", B * 2 * R);
  const cos = pool.f32("cos", B * T * D);
  const sin = pool.f32("sin", B * T * D);
  // Split: the first block [S, S] and the tail [R, S] (y_a's queries over positions R … T−1); else one [T, T].
  const [rowsA, colsA] = split ? [S, S] : [T, T];
  const bias = pool.f32("bias", B * rowsA * colsA, NEG);
  const tail = split ? pool.f32("tail", B * R * S, NEG) : null;
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
    // The keys (slot ranges [from, to)) query slot t sees: a prompt token the earlier prompt tokens; a response token
    // the prompt and its own earlier tokens; padding the prompt. Filled as ranges: rows reach thousands of slots.
    const prompt: [number, number] = [R, R + x];
    const sees = (t: number): [number, number][] => {
      if (t >= R && t < R + x) return [[R, t + 1]];
      if (t < yb) return [[0, t + 1], prompt];
      if (t >= S && t < S + ya) return [prompt, [S, t + 1]];
      return [prompt];
    };
    // Mask rows [t0, t0 + n) over key slots [k0, k0 + cols), at `at` in `out`.
    const fill = (out: Float32Array, at: number, t0: number, n: number, k0: number, cols: number) => {
      for (let i = 0; i < n; i++)
        for (const [from, to] of sees(t0 + i)) {
          const [a, z] = [Math.max(from, k0), Math.min(to, k0 + cols)];
          if (a < z) out.fill(0, at + i * cols + a - k0, at + i * cols + z - k0);
        }
    };
    fill(bias, b * rowsA * colsA, 0, rowsA, 0, colsA);
    // The tail: y_a's slots over keys R … T−1.
    if (tail) fill(tail, b * R * S, S, R, R, S);
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
    attn_bias: { data: bias, dims: [B, 1, rowsA, colsA] },
    ...(tail ? { attn_bias_tail: { data: tail, dims: [B, 1, R, S] } } : {}),
  };
}
