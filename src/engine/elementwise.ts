// Elementwise ops: arithmetic, unary math, comparisons, select, casts and stopGradient. One stanza per op:
// builder (with its shape rule), then its entry in ELEMENTWISE (ONNX lowering + VJP rule).
// Broadcasting gradients back to input shapes is the walker's job (autodiff.ts), never a rule's.

import { emit, type Node } from "./graph.ts";
import { arg, direct, isFloat, lift, noGrad, type OpDef, sameDtype, shapeError, type TensorLike } from "./opdef.ts";
import { broadcastShapes, type DType, isHalf } from "./shapes.ts";

// ---- helpers ----

const arg0 = (n: Node): Node => arg(n, 0);
const arg1 = (n: Node): Node => arg(n, 1);

function binary(op: string, a: TensorLike, b: TensorLike, out?: DType): Node {
  const [x, y] = lift(a, b);
  sameDtype(op, x, y);
  return emit(op, [x, y], {}, broadcastShapes(x.shape, y.shape, op), out ?? x.dtype);
}

function unaryFloat(op: string, x: Node): Node {
  if (!isFloat(x.dtype)) throw shapeError(`${op}: needs a float tensor`, "float32 or float64", x.dtype);
  return emit(op, [x], {}, x.shape, x.dtype);
}

// ---- Add ----
export const add = (a: TensorLike, b: TensorLike): Node => binary("Add", a, b);
const Add: OpDef = { lower: direct("Add"), vjp: (d) => [d, d] };

// ---- Sub ----
export const sub = (a: TensorLike, b: TensorLike): Node => binary("Sub", a, b);
const Sub: OpDef = { lower: direct("Sub"), vjp: (d) => [d, neg(d)] };

// ---- Mul ----
export const mul = (a: TensorLike, b: TensorLike): Node => binary("Mul", a, b);
const Mul: OpDef = { lower: direct("Mul"), vjp: (d, n) => [mul(d, arg1(n)), mul(d, arg0(n))] };

// ---- Div ----
export const div = (a: TensorLike, b: TensorLike): Node => binary("Div", a, b);
// out = a/b: d/da = 1/b, d/db = -a/b² = -out/b
const Div: OpDef = { lower: direct("Div"), vjp: (d, n) => [div(d, arg1(n)), neg(div(mul(d, n), arg1(n)))] };

// ---- Max (binary) ----
export const maximum = (a: TensorLike, b: TensorLike): Node => binary("Max", a, b);
// The gradient goes to the larger input; at a tie it is split evenly, as PyTorch's maximum and JAX's max do. (Ties
// matter: log σ(x) and |x| are built from Max, and at x = 0 — a preference margin when the policy is its own
// reference — sending a tie to one side makes d log σ / dx 1.5 instead of 0.5.)
const Max: OpDef = {
  lower: direct("Max"),
  vjp: (d, n) => {
    const half = mul(d, 0.5);
    const tie = equal(arg0(n), arg1(n));
    const share = (wins: Node) => where(wins, d, where(tie, half, 0));
    return [share(less(arg1(n), arg0(n))), share(less(arg0(n), arg1(n)))];
  },
};

// ---- Neg ----
export const neg = (x: Node): Node => emit("Neg", [x], {}, x.shape, x.dtype);
const Neg: OpDef = { lower: direct("Neg"), vjp: (d) => [neg(d)] };

// ---- Exp ----
export const exp = (x: Node): Node => unaryFloat("Exp", x);
const Exp: OpDef = { lower: direct("Exp"), vjp: (d, n) => [mul(d, n)] };

// ---- Log ----
export const log = (x: Node): Node => unaryFloat("Log", x);
const Log: OpDef = { lower: direct("Log"), vjp: (d, n) => [div(d, arg0(n))] };

// ---- Sqrt ----
export const sqrt = (x: Node): Node => unaryFloat("Sqrt", x);
const Sqrt: OpDef = { lower: direct("Sqrt"), vjp: (d, n) => [div(d, mul(n, 2))] };

// ---- Reciprocal ----
export const reciprocal = (x: Node): Node => unaryFloat("Reciprocal", x);
const Reciprocal: OpDef = { lower: direct("Reciprocal"), vjp: (d, n) => [neg(mul(d, mul(n, n)))] };

// ---- Sigmoid ----
export const sigmoid = (x: Node): Node => unaryFloat("Sigmoid", x);
const Sigmoid: OpDef = { lower: direct("Sigmoid"), vjp: (d, n) => [mul(d, mul(n, sub(1, n)))] };

// ---- Where ----
/** cond ? a : b, broadcasting all three. */
export function where(cond: Node, a: TensorLike, b: TensorLike): Node {
  if (cond.dtype !== "bool") throw shapeError("Where: condition must be bool", "bool", cond.dtype);
  const [x, y] = lift(a, b);
  sameDtype("Where", x, y);
  const shape = broadcastShapes(cond.shape, broadcastShapes(x.shape, y.shape, "Where"), "Where");
  return emit("Where", [cond, x, y], {}, shape, x.dtype);
}
const Where: OpDef = {
  lower: direct("Where"),
  vjp: (d, n) => [null, where(arg(n, 0), d, 0), where(arg(n, 0), 0, d)],
};

// ---- Equal ----
export const equal = (a: TensorLike, b: TensorLike): Node => binary("Equal", a, b, "bool");
const Equal: OpDef = { lower: direct("Equal"), vjp: noGrad };

// ---- Less ----
export const less = (a: TensorLike, b: TensorLike): Node => binary("Less", a, b, "bool");
const Less: OpDef = { lower: direct("Less"), vjp: noGrad };

// ---- Cast ----
export function cast(x: Node, to: DType): Node {
  if (isHalf(to) || isHalf(x.dtype))
    throw shapeError(
      "Cast: half precision is storage only",
      "upcast() from stored half-precision bits",
      `${x.dtype} → ${to}`,
    );
  return x.dtype === to ? x : emit("Cast", [x], { to }, x.shape, to);
}
const Cast: OpDef = {
  lower: direct("Cast", (n) => ({ to: { i: ONNX_DTYPE[n.dtype] } })),
  // Float-to-float casts pass the gradient back in the input's dtype; casts from integers or bools have none.
  vjp: (d, n) => [isFloat(arg0(n).dtype) && isFloat(n.dtype) ? cast(d, arg0(n).dtype) : null],
};

// ---- StopGradient ----
/** Identity in the forward pass; the walker sends no gradient through it. */
export const stopGradient = (x: Node): Node => emit("StopGradient", [x], {}, x.shape, x.dtype);
const StopGradient: OpDef = { lower: direct("Identity"), vjp: () => [null] };

// ---- registry ----

// bfloat16 values are declared and fed as uint16 bits (4): onnxruntime-node cannot make a bfloat16 tensor.
export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
  float16: 10,
  bfloat16: 4,
};

export const ELEMENTWISE = {
  Add,
  Sub,
  Mul,
  Div,
  Max,
  Neg,
  Exp,
  Log,
  Sqrt,
  Reciprocal,
  Sigmoid,
  Where,
  Equal,
  Less,
  Cast,
  StopGradient,
} satisfies Record<string, OpDef>;
