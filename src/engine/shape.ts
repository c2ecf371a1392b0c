// Shape ops and leaves: Input, Constant, Zeros, Reshape, Transpose, Slice, Pad, Concat, Expand. One stanza per op.
// Reshape accepts -1 and symbolic dims; Slice, Pad and Concat need a static size on their axis.

import { emit, type Node } from "./graph.ts";
import { arg, dimsOf, noGrad, type OpDef, shapeError } from "./opdef.ts";
import {
  broadcastShapes,
  type Dim,
  type DType,
  dimDiv,
  dimEq,
  formatShape,
  normAxis,
  numel,
  type Shape,
} from "./shapes.ts";

// ---- Input ----
/** A graph input: a parameter (trainable, gets a gradient when asked) or data (token ids, masks). */
export function input(name: string, shape: Shape, dtype: DType = "float32"): Node {
  if (!/^[A-Za-z_][\w.:/-]*$/.test(name))
    throw shapeError("input: bad name", "a name like model.norm.weight", JSON.stringify(name));
  return emit("Input", [], { inputName: name }, shape, dtype);
}
const Input: OpDef = { lower: () => {}, vjp: noGrad };

// ---- Constant ----
// Builder in opdef.ts (lifting numbers needs it everywhere); values live in attrs.value.
const Constant: OpDef = {
  lower: (n, cx) =>
    cx.add("Identity", [cx.constant(n.attrs.value as number[], n.shape as number[], n.dtype)], [cx.output]),
  vjp: noGrad,
};

// ---- Zeros ----
export const zeros = (shape: Shape, dtype: DType = "float32"): Node => emit("Zeros", [], {}, shape, dtype);
const Zeros: OpDef = {
  lower: (n, cx) => cx.add("Expand", [cx.constant([0], [], n.dtype), cx.shape(n.shape)], [cx.output]),
  vjp: noGrad,
};

// ---- Reshape ----
/** Reshape; one dim may be -1 (inferred, possibly symbolic such as "B*T"). */
export function reshape(x: Node, shape: readonly Dim[]): Node {
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) throw shapeError("Reshape: more than one -1", "at most one -1", formatShape(shape));
  const known = numel(shape.filter((d) => d !== -1));
  const total = numel(x.shape);
  const out = shape.map((d) => (d === -1 ? (dimDiv(total, known) ?? NaN) : d));
  if (out.some((d) => Number.isNaN(d)) || !dimEq(numel(out), total))
    throw shapeError(
      "Reshape: element counts differ",
      `a shape with ${total} elements`,
      `${formatShape(shape)} for ${formatShape(x.shape)}`,
    );
  if (out.length === x.shape.length && out.every((d, i) => dimEq(d, x.shape[i]))) return x;
  if (x.op === "Reshape") return reshape(arg(x, 0), out); // reshape of a reshape is one reshape
  return emit("Reshape", [x], { shape: out }, out, x.dtype);
}
const Reshape: OpDef = {
  lower: (n, cx) => {
    // Static shapes, or one symbolic dim written as -1, need no run-time shape arithmetic.
    const dyn = n.shape.filter((d) => typeof d !== "number").length;
    const target = dyn <= 1 ? cx.int64s(n.shape.map((d) => (typeof d === "number" ? d : -1))) : cx.shape(n.shape);
    cx.add("Reshape", [cx.input(0), target], [cx.output]);
  },
  vjp: (d, n) => [reshape(d, arg(n, 0).shape)],
};

// ---- Transpose ----
export function transpose(x: Node, perm: readonly number[]): Node {
  const r = x.shape.length;
  if (perm.length !== r || [...perm].sort().some((p, i) => p !== i))
    throw shapeError("Transpose: bad permutation", `a permutation of 0..${r - 1}`, `[${perm.join(", ")}]`);
  if (perm.every((p, i) => p === i)) return x;
  // Transpose of a transpose is one transpose (or none): keeps backward graphs free of redundant copies.
  if (x.op === "Transpose") {
    const inner = x.attrs.perm as number[];
    return transpose(
      arg(x, 0),
      perm.map((p) => inner[p]),
    );
  }
  return emit(
    "Transpose",
    [x],
    { perm },
    perm.map((p) => x.shape[p]),
    x.dtype,
  );
}
const Transpose: OpDef = {
  lower: (n, cx) => cx.add("Transpose", [cx.input(0)], [cx.output], { perm: { ints: n.attrs.perm as number[] } }),
  vjp: (d, n) => {
    const perm = n.attrs.perm as number[];
    return [
      transpose(
        d,
        perm.map((_, i) => perm.indexOf(i)),
      ),
    ];
  },
};

/** Swap the last two axes. */
export const transposeLast = (x: Node): Node => {
  const r = x.shape.length;
  return transpose(
    x,
    [...Array(r).keys()].map((i) => (i === r - 2 ? r - 1 : i === r - 1 ? r - 2 : i)),
  );
};

// ---- Slice ----
/** x[..., start:end, ...] on one axis with a static size. */
export function slice(x: Node, axis: number, start: number, end: number): Node {
  const a = normAxis(axis, x.shape.length, "Slice");
  const size = x.shape[a];
  if (typeof size !== "number") throw shapeError("Slice: axis must be static", "a number", `${size} on axis ${a}`);
  if (!(0 <= start && start < end && end <= size))
    throw shapeError("Slice: bad range", `0 ≤ start < end ≤ ${size}`, `${start}:${end}`);
  const shape = dimsOf(x);
  shape[a] = end - start;
  return emit("Slice", [x], { axis: a, start, end }, shape, x.dtype);
}
const Slice: OpDef = {
  lower: (n, cx) =>
    cx.add(
      "Slice",
      [
        cx.input(0),
        cx.int64s([n.attrs.start as number]),
        cx.int64s([n.attrs.end as number]),
        cx.int64s([n.attrs.axis as number]),
      ],
      [cx.output],
    ),
  // Pad the gradient back with zeros before and after the slice.
  vjp: (d, n) => {
    const size = arg(n, 0).shape[n.attrs.axis as number] as number;
    return [pad(d, n.attrs.axis as number, n.attrs.start as number, size - (n.attrs.end as number))];
  },
};

// ---- Pad ----
/** Zero-pad one axis with `before` and `after` entries (the adjoint of Slice). */
export function pad(x: Node, axis: number, before: number, after: number): Node {
  const a = normAxis(axis, x.shape.length, "Pad");
  const size = x.shape[a];
  if (typeof size !== "number" || before < 0 || after < 0)
    throw shapeError(
      "Pad: needs a static axis and non-negative widths",
      "a number and widths ≥ 0",
      `${size}, ${before}, ${after}`,
    );
  if (before === 0 && after === 0) return x;
  const shape = dimsOf(x);
  shape[a] = size + before + after;
  return emit("Pad", [x], { axis: a, before, after }, shape, x.dtype);
}
const Pad: OpDef = {
  lower: (n, cx) => {
    const r = n.shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    pads[n.attrs.axis as number] = n.attrs.before as number;
    pads[r + (n.attrs.axis as number)] = n.attrs.after as number;
    cx.add("Pad", [cx.input(0), cx.int64s(pads)], [cx.output], { mode: { s: "constant" } });
  },
  vjp: (d, n) => {
    const [a, b] = [n.attrs.axis as number, n.attrs.before as number];
    return [slice(d, a, b, b + (arg(n, 0).shape[a] as number))];
  },
};

// ---- Concat ----
export function concat(xs: readonly Node[], axis: number): Node {
  if (xs.length === 0) throw shapeError("Concat: nothing to join", "at least one tensor", "[]");
  const a = normAxis(axis, xs[0].shape.length, "Concat");
  let size = 0;
  for (const x of xs) {
    const ok =
      x.dtype === xs[0].dtype &&
      x.shape.length === xs[0].shape.length &&
      x.shape.every((d, i) => i === a || dimEq(d, xs[0].shape[i]));
    if (!ok || typeof x.shape[a] !== "number")
      throw shapeError(
        "Concat: shapes do not fit",
        `equal dims except a static axis ${a}`,
        xs.map((y) => formatShape(y.shape)).join(" and "),
      );
    size += x.shape[a] as number;
  }
  if (xs.length === 1) return xs[0];
  const shape = dimsOf(xs[0]);
  shape[a] = size;
  return emit("Concat", xs, { axis: a }, shape, xs[0].dtype);
}
const Concat: OpDef = {
  lower: (n, cx) =>
    cx.add(
      "Concat",
      n.inputs.map((_, i) => cx.input(i)),
      [cx.output],
      { axis: { i: n.attrs.axis as number } },
    ),
  vjp: (d, n) => {
    const a = n.attrs.axis as number;
    let at = 0;
    return n.inputs.map((_, i) => {
      const size = arg(n, i).shape[a] as number;
      return slice(d, a, at, (at += size));
    });
  },
};

// ---- Expand ----
/** Broadcast x to `shape`. */
export function expand(x: Node, shape: Shape): Node {
  const out = broadcastShapes(x.shape, shape, "Expand");
  if (out.length !== shape.length || out.some((d, i) => !dimEq(d, shape[i])))
    throw shapeError("Expand: does not broadcast to the target", formatShape(shape), formatShape(x.shape));
  if (out.length === x.shape.length && out.every((d, i) => dimEq(d, x.shape[i]))) return x;
  return emit("Expand", [x], {}, shape, x.dtype);
}
// The walker sums the gradient back to the input shape, so the rule is the identity.
const Expand: OpDef = {
  lower: (n, cx) => cx.add("Expand", [cx.input(0), cx.shape(n.shape)], [cx.output]),
  vjp: (d) => [d],
};

// ---- registry ----

export const SHAPE = { Input, Constant, Zeros, Reshape, Transpose, Slice, Pad, Concat, Expand } satisfies Record<
  string,
  OpDef
>;
