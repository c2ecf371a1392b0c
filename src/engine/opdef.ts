// The contract every op stanza fills: an ONNX lowering and a VJP rule. Also the small helpers the stanzas share
// (argument lookup, number lifting, dtype checks). Does not list ops: see ops.ts for the registry.

import { ShapeError } from "../errors.ts";
import { callerSite, currentGraph, emit, type Node } from "./graph.ts";
import { type Dim, type DType, formatShape, isHalf, type Shape } from "./shapes.ts";

// ---- types ----

export type OnnxAttr = { i: number } | { f: number } | { ints: readonly number[] } | { s: string };

/** What a lowering may do: name values, add ONNX nodes, make int64 constants and runtime shape tensors. */
export interface LowerCtx {
  /** Value name of input `i` of the node being lowered. */
  input(i: number): string;
  /** The node of input `i` (its dtype and shape). */
  node(i: number): Node;
  /** Value name of the node's output. */
  readonly output: string;
  /** A fresh value name for an intermediate. */
  temp(hint: string): string;
  add(opType: string, inputs: readonly string[], outputs: readonly string[], attrs?: Record<string, OnnxAttr>): void;
  /** An int64 1-D initializer. */
  int64s(values: readonly number[]): string;
  /** An initializer of any dtype and static shape. */
  constant(values: readonly number[], shape: readonly number[], dtype: DType): string;
  /** An int64 1-D tensor holding `shape`, computed at run time for symbolic dims. */
  shape(shape: Shape): string;
  /** An int64 [1] tensor holding the sum of `dims` (0 for none), computed at run time for symbolic dims. */
  sum(dims: readonly Dim[]): string;
  /** The int64 1-D tensors `parts` joined (a run-time vector such as Pad's widths). */
  concat(parts: readonly string[]): string;
}

export type Lowering = (n: Node, cx: LowerCtx) => void;
/** `(dout, node) => grads`: one entry per input, null where the input gets no gradient. */
export type VjpRule = (dout: Node, n: Node) => readonly (Node | null)[];
export interface OpDef {
  readonly lower: Lowering;
  readonly vjp: VjpRule;
}

export type TensorLike = Node | number;

// ---- exports ----

/** The i-th input node of `n` in the active graph. */
export const arg = (n: Node, i: number): Node => {
  const g = currentGraph();
  return g.node(g.argSubstitutes?.get(n.inputs[i]) ?? n.inputs[i]);
};

export const isFloat = (t: DType): boolean => t === "float32" || t === "float64";

/** An ONNX lowering that maps one-to-one onto `opType` with the node's inputs. */
export const direct =
  (opType: string, attrs?: (n: Node) => Record<string, OnnxAttr>): Lowering =>
  (n, cx) =>
    cx.add(
      opType,
      n.inputs.map((_, i) => cx.input(i)),
      [cx.output],
      attrs?.(n),
    );

/** VJP rule for ops whose outputs carry no gradient (comparisons, integer results). */
export const noGrad: VjpRule = (_d, n) => n.inputs.map(() => null);

export function shapeError(what: string, expected: string, got: string): ShapeError {
  return new ShapeError(`${callerSite()}: ${what}`, { expected, got });
}

/** Constant tensor (small: values are stored in the node's attrs so the graph stays plain JSON). */
export function constant(values: ArrayLike<number>, shape: readonly number[], dtype: DType = "float32"): Node {
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n)
    throw shapeError("constant: value count does not match shape", `${n} values`, `${values.length}`);
  if (dtype === "bfloat16" || dtype === "float16")
    throw shapeError("constant: half precision is storage only", "a float32 constant", dtype);
  return emit("Constant", [], { value: Array.from(values) }, shape, dtype);
}

export const scalar = (v: number, dtype: DType = "float32"): Node => constant([v], [], dtype);

/** Lift numbers to scalar constants of the other operand's dtype. */
export function lift(a: TensorLike, b: TensorLike): [Node, Node] {
  if (typeof a === "number" && typeof b === "number") return [scalar(a), scalar(b)];
  if (typeof a === "number") return [scalar(a, (b as Node).dtype), b as Node];
  if (typeof b === "number") return [a, scalar(b, a.dtype)];
  return [a, b];
}

/** Two operands of one dtype, which is not a half-precision storage type (those are only upcast from). */
export function sameDtype(what: string, a: Node, b: Node): void {
  if (a.dtype !== b.dtype)
    throw shapeError(
      `${what}: dtypes differ`,
      "equal dtypes",
      `${a.dtype}${formatShape(a.shape)} and ${b.dtype}${formatShape(b.shape)}`,
    );
  if (isHalf(a.dtype))
    throw shapeError(
      `${what}: half precision is storage only`,
      "float32 operands: upcast() stored weights first",
      a.dtype,
    );
}

export function checkRank(what: string, x: Node, rank: number | ((r: number) => boolean), words: string): void {
  const ok = typeof rank === "number" ? x.shape.length === rank : rank(x.shape.length);
  if (!ok) throw shapeError(`${what}: wrong rank`, words, `${x.dtype}${formatShape(x.shape)}`);
}

export const dimsOf = (x: Node): Dim[] => [...x.shape];
