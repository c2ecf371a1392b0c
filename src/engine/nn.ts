// Compositions built from the primitives (no gradient rules of their own): softmax, log-softmax,
// log-softmax-gather, SiLU, RMSNorm, rotary embedding (HF rotate-half), linear. Each has a gradient test.

import { add, div, exp, log, mul, neg, reciprocal, sigmoid, sqrt, stopGradient, sub } from "./elementwise.ts";
import { gatherElements } from "./gather.ts";
import type { Node } from "./graph.ts";
import { matmul } from "./matmul.ts";
import { reduceMax, reduceMean, reduceSum } from "./reduce.ts";
import { concat, reshape, slice, transposeLast } from "./shape.ts";
import { logSoftmaxGatherFused, softmaxLast } from "./softmax.ts";

/** Softmax along `axis`: the fused primitive on the last axis, else a stable composition. */
export function softmax(x: Node, axis = -1): Node {
  if (axis === -1 || axis === x.shape.length - 1) return softmaxLast(x);
  return softmaxComposed(x, axis);
}

/** Numerically stable softmax as a composition (the max shift carries no gradient: softmax is shift-invariant). */
export function softmaxComposed(x: Node, axis = -1): Node {
  const e = exp(sub(x, stopGradient(reduceMax(x, [axis], true)))); // same shape as x
  return div(e, reduceSum(e, [axis], true));
}

/** log-sum-exp along `axis`, keeping the axis as size 1. */
export function logSumExp(x: Node, axis = -1): Node {
  const m = stopGradient(reduceMax(x, [axis], true)); // [..., 1]
  return add(log(reduceSum(exp(sub(x, m)), [axis], true)), m); // [..., 1]
}

export const logSoftmax = (x: Node, axis = -1): Node => sub(x, logSumExp(x, axis));

/** log softmax(logits)[target] along the last axis: logits [..., V], targets int64 [...] → [...] (fused primitive). */
export const logSoftmaxGather = (logits: Node, targets: Node): Node => logSoftmaxGatherFused(logits, targets);

/** The same as a composition, without materialising the full log-softmax (reference for the fused op). */
export function logSoftmaxGatherComposed(logits: Node, targets: Node): Node {
  const idx = reshape(targets, [...targets.shape, 1]); // [..., 1]
  const picked = gatherElements(logits, idx, -1); // [..., 1]
  return reshape(sub(picked, logSumExp(logits, -1)), targets.shape); // [...]
}

export const silu = (x: Node): Node => mul(x, sigmoid(x));

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) * weight. */
export function rmsNorm(x: Node, weight: Node, eps: number): Node {
  const inv = reciprocal(sqrt(add(reduceMean(mul(x, x), [-1], true), eps))); // [..., 1]
  return mul(mul(x, inv), weight); // [..., C]
}

/** Hugging Face rotate_half: [x1, x2] → [-x2, x1] on the last axis. */
export function rotateHalf(x: Node): Node {
  const d = x.shape[x.shape.length - 1] as number;
  return concat([neg(slice(x, -1, d / 2, d)), slice(x, -1, 0, d / 2)], -1);
}

/** Rotary embedding: x [..., T, D] with cos/sin tables [T, D] (HF layout, halves duplicated). */
export const rope = (x: Node, cos: Node, sin: Node): Node => add(mul(x, cos), mul(rotateHalf(x), sin));

/** y = x @ wᵀ (+ b), with w in Hugging Face layout [out, in]. */
export function linear(x: Node, w: Node, b?: Node): Node {
  const y = matmul(x, transposeLast(w)); // [..., out]
  return b ? add(y, b) : y;
}
