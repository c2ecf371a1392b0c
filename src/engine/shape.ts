// Shape ops and leaves: Input, Constant, Zeros, Reshape, Transpose, Slice, Pad, Concat, Expand. One stanza per op.
// Reshape accepts -1 and symbolic dims; Slice, Pad and Concat take symbolic bounds given as sums of dims.

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
// One op for static and symbolic bounds: attrs hold the dims cut before the slice, its size and the dims cut after
// it (lists, summed). Symbolic bounds are sums of products, which the engine's dims cannot express: the caller
// vouches that before + size + after is the axis (sliceSpan); ONNX Runtime checks the real sizes when it runs.

/** x[..., start:end, ...] on one axis with a static size. */
export function slice(x: Node, axis: number, start: number, end: number): Node {
  const a = normAxis(axis, x.shape.length, "Slice");
  const size = x.shape[a];
  if (typeof size !== "number") throw shapeError("Slice: axis must be static", "a number", `${size} on axis ${a}`);
  if (!(0 <= start && start < end && end <= size))
    throw shapeError("Slice: bad range", `0 ≤ start < end ≤ ${size}`, `${start}:${end}`);
  return sliceSpan(x, a, [start], end - start, [size - end]);
}

/**
 * The `size` entries of one axis after the entries `before` (dims, summed), with `after` more behind them: the
 * axis must be Σbefore + size + Σafter. For bounds that are sums of symbols, e.g. a row of S + R positions.
 */
export function sliceSpan(x: Node, axis: number, before: readonly Dim[], size: Dim, after: readonly Dim[]): Node {
  const a = normAxis(axis, x.shape.length, "Slice");
  const parts = [...before, size, ...after];
  if (parts.every((d) => typeof d === "number")) {
    const sum = (parts as number[]).reduce((p, q) => p + q, 0);
    if (sum !== x.shape[a] || (size as number) <= 0 || parts.some((d) => (d as number) < 0))
      throw shapeError("Slice: bad range", `before + size + after = ${x.shape[a]}, size ≥ 1`, parts.join(" + "));
  }
  const bare = (ds: readonly Dim[]) => ds.filter((d) => d !== 0);
  if (bare(before).length === 0 && bare(after).length === 0 && dimEq(size, x.shape[a]!)) return x;
  const shape = dimsOf(x);
  shape[a] = size;
  return emit("Slice", [x], { axis: a, before: bare(before), size, after: bare(after) }, shape, x.dtype);
}
const Slice: OpDef = {
  lower: (n, cx) => {
    const before = n.attrs.before as Dim[];
    cx.add(
      "Slice",
      [cx.input(0), cx.sum(before), cx.sum([...before, n.attrs.size as Dim]), cx.int64s([n.attrs.axis as number])],
      [cx.output],
    );
  },
  // Pad the gradient back with zeros before and after the slice.
  vjp: (d, n) => {
    const a = n.attrs.axis as number;
    return [padSpan(d, a, n.attrs.before as Dim[], n.attrs.after as Dim[], arg(n, 0).shape[a]!)];
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
  return padSpan(x, a, [before], [after], size + before + after);
}

/** Zero-pad one axis with Σbefore and Σafter entries (dims), to `size` (the caller vouches for the sum). */
export function padSpan(x: Node, axis: number, before: readonly Dim[], after: readonly Dim[], size: Dim): Node {
  const a = normAxis(axis, x.shape.length, "Pad");
  const parts = [...before, x.shape[a]!, ...after];
  if (parts.every((d) => typeof d === "number") && typeof size === "number") {
    const sum = (parts as number[]).reduce((p, q) => p + q, 0);
    if (sum !== size || parts.some((d) => (d as number) < 0))
      throw shapeError(
        "Pad: widths do not fit",
        `before + ${x.shape[a]} + after = ${size}, widths ≥ 0`,
        parts.join(" + "),
      );
  }
  const [b, f] = [before.filter((d) => d !== 0), after.filter((d) => d !== 0)];
  if (b.length === 0 && f.length === 0 && dimEq(size, x.shape[a]!)) return x;
  const shape = dimsOf(x);
  shape[a] = size;
  return emit("Pad", [x], { axis: a, before: b, after: f }, shape, x.dtype);
}
const Pad: OpDef = {
  lower: (n, cx) => {
    const r = n.shape.length;
    const a = n.attrs.axis as number;
    const [before, after] = [n.attrs.before as Dim[], n.attrs.after as Dim[]];
    const widths = Array.from({ length: 2 * r }, (_, i) => (i === a ? before : i === r + a ? after : []));
    const pads = widths.every((w) => w.every((d) => typeof d === "number"))
      ? cx.int64s(widths.map((w) => (w as number[]).reduce((p, q) => p + q, 0)))
      : cx.concat(widths.map((w) => cx.sum(w)));
    cx.add("Pad", [cx.input(0), pads], [cx.output], { mode: { s: "constant" } });
  },
  vjp: (d, n) => {
    const a = n.attrs.axis as number;
    return [sliceSpan(d, a, n.attrs.before as Dim[], arg(n, 0).shape[a]!, n.attrs.after as Dim[])];
  },
};

// ---- Concat ----
/**
 * Join tensors on one axis. Where a part's axis is symbolic, `size` names the joined axis (a dim the caller vouches
 * equals the sum of the parts, e.g. T for S + R positions).
 */
export function concat(xs: readonly Node[], axis: number, size?: Dim): Node {
  if (xs.length === 0) throw shapeError("Concat: nothing to join", "at least one tensor", "[]");
  const a = normAxis(axis, xs[0].shape.length, "Concat");
  for (const x of xs) {
    const ok =
      x.dtype === xs[0].dtype &&
      x.shape.length === xs[0].shape.length &&
      x.shape.every((d, i) => i === a || dimEq(d, xs[0].shape[i]));
    if (!ok)
      throw shapeError(
        "Concat: shapes do not fit",
        `equal dims except axis ${a}`,
        xs.map((y) => formatShape(y.shape)).join(" and "),
      );
  }
  const parts = xs.map((x) => x.shape[a]!);
  const fixed = parts.every((d) => typeof d === "number");
  if (!fixed && size === undefined)
    throw shapeError(
      "Concat: a symbolic axis needs the joined size",
      "concat(xs, axis, size)",
      xs.map((y) => formatShape(y.shape)).join(" and "),
    );
  const total = fixed ? (parts as number[]).reduce((p, q) => p + q, 0) : size!;
  if (fixed && size !== undefined && !dimEq(size, total))
    throw shapeError("Concat: the joined size does not match the parts", String(total), String(size));
  if (xs.length === 1 && dimEq(total, parts[0]!)) return xs[0];
  const shape = dimsOf(xs[0]);
  shape[a] = total;
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
    const parts = n.inputs.map((_, i) => arg(n, i).shape[a]!);
    return parts.map((p, i) => sliceSpan(d, a, parts.slice(0, i), p, parts.slice(i + 1)));
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
