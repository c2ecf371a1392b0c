// Reductions over a list of axes: ReduceSum, ReduceMean, ReduceMax. One stanza per op.
// ReduceMean needs static reduced dims (the divisor is a constant); reduce a symbolic axis with ReduceSum and divide.

import { cast, div, equal, mul } from "./elementwise.ts";
import { emit, type Node } from "./graph.ts";
import { arg, checkRank, isFloat, type LowerCtx, type OpDef, shapeError } from "./opdef.ts";
import { expand, reshape } from "./shape.ts";
import { type Dim, normAxis, numel, type Shape } from "./shapes.ts";

// ---- helpers ----

function reduceShape(
  op: string,
  x: Node,
  axes: readonly number[],
  keepdims: boolean,
): { axes: number[]; shape: Dim[] } {
  if (axes.length === 0) throw shapeError(`${op}: no axes given`, "at least one axis", "[]");
  checkRank(op, x, (r) => r >= 1, "a tensor of rank ≥ 1");
  const ax = [...new Set(axes.map((a) => normAxis(a, x.shape.length, op)))].sort((a, b) => a - b);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return { axes: ax, shape };
}

/** The output shape with reduced axes kept as 1, so the gradient can broadcast back. */
function keptShape(n: Node): Shape {
  const ax = n.attrs.axes as readonly number[];
  return arg(n, 0).shape.map((d, i) => (ax.includes(i) ? 1 : d));
}

function reduce(op: string, x: Node, axes: readonly number[], keepdims: boolean): Node {
  if (!isFloat(x.dtype)) throw shapeError(`${op}: needs a float tensor`, "float32 or float64", x.dtype);
  const r = reduceShape(op, x, axes, keepdims);
  return emit(op, [x], { axes: r.axes, keepdims }, r.shape, x.dtype);
}

// Since opset 18 (13 for ReduceSum) every reduction takes its axes as an input.
const lowerAxes = (opType: string) => (n: Node, cx: LowerCtx) =>
  cx.add(opType, [cx.input(0), cx.int64s(n.attrs.axes as number[])], [cx.output], {
    keepdims: { i: n.attrs.keepdims ? 1 : 0 },
  });

// ---- ReduceSum ----
export const reduceSum = (x: Node, axes: readonly number[], keepdims = false): Node =>
  reduce("ReduceSum", x, axes, keepdims);
const ReduceSum: OpDef = {
  lower: lowerAxes("ReduceSum"),
  vjp: (d, n) => [expand(reshape(d, keptShape(n)), arg(n, 0).shape)],
};

// ---- ReduceMean ----
export function reduceMean(x: Node, axes: readonly number[], keepdims = false): Node {
  const out = reduce("ReduceMean", x, axes, keepdims);
  const count = numel((out.attrs.axes as number[]).map((a) => x.shape[a]));
  if (typeof count !== "number")
    throw shapeError("ReduceMean: reduced dims must be static", "numbers on the reduced axes", `${count}`);
  return out;
}
const ReduceMean: OpDef = {
  lower: lowerAxes("ReduceMean"),
  vjp: (d, n) => {
    const count = numel((n.attrs.axes as number[]).map((a) => arg(n, 0).shape[a])) as number;
    return [expand(reshape(div(d, count), keptShape(n)), arg(n, 0).shape)];
  },
};

// ---- ReduceMax ----
export const reduceMax = (x: Node, axes: readonly number[], keepdims = false): Node =>
  reduce("ReduceMax", x, axes, keepdims);
// The gradient flows to every position equal to the max (ties share it in full, as in ONNX Runtime training).
const ReduceMax: OpDef = {
  lower: lowerAxes("ReduceMax"),
  vjp: (d, n) => {
    const x = arg(n, 0);
    return [mul(reshape(d, keptShape(n)), cast(equal(x, reshape(n, keptShape(n))), x.dtype))];
  },
};

// ---- registry ----

export const REDUCE = { ReduceSum, ReduceMean, ReduceMax } satisfies Record<string, OpDef>;
