// Indexing ops: Gather (rows of a table), Embed (token rows with a fast deterministic adjoint), GatherElements,
// GatherND and their scatter-add adjoints ScatterElements / ScatterND with reduction "add". Indices are int64.
// One stanza per op.

import { cast, equal } from "./elementwise.ts";
import { emit, type Node } from "./graph.ts";
import { matmul } from "./matmul.ts";
import { arg, type OpDef, sameDtype, shapeError } from "./opdef.ts";
import { expand, reshape, zeros } from "./shape.ts";
import { type Dim, dimEq, formatShape } from "./shapes.ts";

// ---- helpers ----

function int64(op: string, idx: Node): void {
  if (idx.dtype !== "int64") throw shapeError(`${op}: indices must be int64`, "int64", idx.dtype);
}

function elementShapes(op: string, data: Node, idx: Node, axis: number): void {
  const ok = idx.shape.length === data.shape.length && idx.shape.every((d, i) => i === axis || dimEq(d, data.shape[i]));
  if (!ok)
    throw shapeError(
      `${op}: index shape does not fit`,
      `data's shape except on axis ${axis}`,
      `${formatShape(idx.shape)} for ${formatShape(data.shape)}`,
    );
}

const axisAttr = (n: Node) => ({ axis: { i: n.attrs.axis as number } });

// ---- Gather ----
/**
 * Rows of `data` along axis 0: out[...idx, ...] = data[idx[...], ...]. `unique`: the caller guarantees no row is
 * picked twice (e.g. scored positions with distinct padding rows), which makes the adjoint a plain row scatter.
 */
export function gather(data: Node, idx: Node, o: { unique?: boolean } = {}): Node {
  int64("Gather", idx);
  return emit(
    "Gather",
    [data, idx],
    o.unique ? { unique: true } : {},
    [...idx.shape, ...data.shape.slice(1)],
    data.dtype,
  );
}
const Gather: OpDef = {
  lower: (_n, cx) => cx.add("Gather", [cx.input(0), cx.input(1)], [cx.output], { axis: { i: 0 } }),
  // Rows gathered twice add up. ONNX Runtime's ScatterND "add" runs duplicate indices in parallel and loses updates
  // with more than one thread (an embedding gradient changed from run to run), so the adjoint is a ScatterElements
  // "add" over the flattened rows, whose CPU kernel is deterministic (but slow: one index per element). With
  // unique rows no two updates meet, and the row-wise ScatterND is exact and deterministic.
  vjp: (d, n) => {
    const [data, idx] = [arg(n, 0), arg(n, 1)];
    const rest = data.shape.slice(1);
    const rows = reshape(d, [-1, ...rest]); // [N, ...rest]
    if (n.attrs.unique) return [scatterNDAdd(zeros(data.shape, data.dtype), reshape(idx, [-1, 1]), rows), null];
    const at = expand(reshape(idx, [-1, ...rest.map(() => 1)]), rows.shape); // [N, ...rest], the row of each
    return [scatterElementsAdd(zeros(data.shape, data.dtype), at, rows, 0), null];
  },
};

// ---- Embed ----
/**
 * Rows of a table [V, C] for token ids [...] → [..., C], given `rows` [U]: the distinct ids among `ids` (fed with
 * the batch). The adjoint sums each distinct id's gradient rows with a one-hot [U, N] matmul — a fixed order, so
 * deterministic, and far faster than an element-wise scatter — and scatters the U sums as unique rows.
 */
export function embed(table: Node, ids: Node, rows: Node): Node {
  int64("Embed", ids);
  int64("Embed", rows);
  if (table.shape.length !== 2 || rows.shape.length !== 1)
    throw shapeError(
      "Embed: wrong ranks",
      "table [V, C] and rows [U]",
      `${formatShape(table.shape)}, ${formatShape(rows.shape)}`,
    );
  return emit("Embed", [table, ids, rows], {}, [...ids.shape, table.shape[1]!], table.dtype);
}
const Embed: OpDef = {
  lower: (_n, cx) => cx.add("Gather", [cx.input(0), cx.input(1)], [cx.output], { axis: { i: 0 } }),
  vjp: (d, n) => {
    const [table, ids, rows] = [arg(n, 0), arg(n, 1), arg(n, 2)];
    const C = table.shape[1]!;
    const flat = reshape(d, [-1, C]); // [N, C]
    const onehot = cast(equal(reshape(rows, [-1, 1]), reshape(ids, [1, -1])), table.dtype); // [U, N]
    const sums = matmul(onehot, flat); // [U, C]
    return [scatterNDAdd(zeros(table.shape, table.dtype), reshape(rows, [-1, 1]), sums), null, null];
  },
};

// ---- GatherElements ----
export function gatherElements(data: Node, idx: Node, axis: number): Node {
  int64("GatherElements", idx);
  const a = axis < 0 ? axis + data.shape.length : axis;
  elementShapes("GatherElements", data, idx, a);
  return emit("GatherElements", [data, idx], { axis: a }, idx.shape, data.dtype);
}
const GatherElements: OpDef = {
  lower: (n, cx) => cx.add("GatherElements", [cx.input(0), cx.input(1)], [cx.output], axisAttr(n)),
  vjp: (d, n) => [scatterElementsAdd(zeros(arg(n, 0).shape, d.dtype), arg(n, 1), d, n.attrs.axis as number), null],
};

// ---- ScatterElements (add) ----
/** data with updates added at idx along axis (duplicates accumulate). */
export function scatterElementsAdd(data: Node, idx: Node, updates: Node, axis: number): Node {
  int64("ScatterElements", idx);
  sameDtype("ScatterElements", data, updates);
  const a = axis < 0 ? axis + data.shape.length : axis;
  elementShapes("ScatterElements", data, idx, a);
  return emit("ScatterElements", [data, idx, updates], { axis: a }, data.shape, data.dtype);
}
const ScatterElements: OpDef = {
  lower: (n, cx) =>
    cx.add("ScatterElements", [cx.input(0), cx.input(1), cx.input(2)], [cx.output], {
      ...axisAttr(n),
      reduction: { s: "add" },
    }),
  vjp: (d, n) => [d, null, gatherElements(d, arg(n, 1), n.attrs.axis as number)],
};

// ---- GatherND ----
/** idx [..., k] picks slices data[i0..ik-1] → out [..., data.shape[k:]]. */
export function gatherND(data: Node, idx: Node): Node {
  int64("GatherND", idx);
  const k = idx.shape[idx.shape.length - 1];
  if (typeof k !== "number" || k > data.shape.length)
    throw shapeError("GatherND: bad index depth", `a static last dim ≤ ${data.shape.length}`, formatShape(idx.shape));
  const shape: Dim[] = [...idx.shape.slice(0, -1), ...data.shape.slice(k)];
  return emit("GatherND", [data, idx], {}, shape, data.dtype);
}
const GatherND: OpDef = {
  lower: (_n, cx) => cx.add("GatherND", [cx.input(0), cx.input(1)], [cx.output]),
  vjp: (d, n) => [scatterNDAdd(zeros(arg(n, 0).shape, d.dtype), arg(n, 1), d), null],
};

// ---- ScatterND (add) ----
export function scatterNDAdd(data: Node, idx: Node, updates: Node): Node {
  int64("ScatterND", idx);
  sameDtype("ScatterND", data, updates);
  const k = idx.shape[idx.shape.length - 1] as number;
  const want = [...idx.shape.slice(0, -1), ...data.shape.slice(k)];
  if (want.length !== updates.shape.length || want.some((d, i) => !dimEq(d, updates.shape[i])))
    throw shapeError("ScatterND: updates shape does not fit", formatShape(want), formatShape(updates.shape));
  return emit("ScatterND", [data, idx, updates], {}, data.shape, data.dtype);
}
const ScatterND: OpDef = {
  lower: (_n, cx) =>
    cx.add("ScatterND", [cx.input(0), cx.input(1), cx.input(2)], [cx.output], { reduction: { s: "add" } }),
  vjp: (d, n) => [d, null, gatherND(d, arg(n, 1))],
};

// ---- registry ----

export const GATHER = { Gather, Embed, GatherElements, ScatterElements, GatherND, ScatterND } satisfies Record<
  string,
  OpDef
>;
