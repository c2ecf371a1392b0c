// Fused softmax-family primitives over the last axis: Softmax and LogSoftmaxGather (log softmax(x)[target]).
// Both also exist as compositions of primitives; these fused forms are kept because they were measured faster
// on the training step (see docs/engine.md): one ONNX kernel forward, 3–4 full-size passes backward.

import { mul, neg, sub } from "./elementwise.ts";
import { scatterElementsAdd } from "./gather.ts";
import { callerSite, emit, type Node } from "./graph.ts";
import { arg, checkRank, isFloat, type OpDef, shapeError } from "./opdef.ts";
import { reduceSum } from "./reduce.ts";
import { reshape } from "./shape.ts";
import { dimEq, formatShape } from "./shapes.ts";

// ---- Softmax ----
/** softmax along the last axis. */
export function softmaxLast(x: Node): Node {
  if (!isFloat(x.dtype)) throw shapeError("Softmax: needs a float tensor", "float32 or float64", x.dtype);
  checkRank("Softmax", x, (r) => r >= 1, "rank ≥ 1");
  return emit("Softmax", [x], {}, x.shape, x.dtype);
}
// y = softmax(x): dx = y ⊙ (d − Σ d⊙y)
const Softmax: OpDef = {
  lower: (_n, cx) => cx.add("Softmax", [cx.input(0)], [cx.output], { axis: { i: -1 } }),
  vjp: (d, n) => [mul(n, sub(d, reduceSum(mul(d, n), [-1], true)))],
};

// ---- LogSoftmaxGather ----
/** log softmax(logits)[..., target] : logits [..., V], targets int64 [...] → [...]. */
export function logSoftmaxGatherFused(logits: Node, targets: Node): Node {
  if (!isFloat(logits.dtype))
    throw shapeError("LogSoftmaxGather: logits must be float", "float32 or float64", logits.dtype);
  const lead = logits.shape.slice(0, -1);
  if (
    targets.dtype !== "int64" ||
    lead.length !== targets.shape.length ||
    lead.some((d, i) => !dimEq(d, targets.shape[i]))
  )
    throw shapeError(
      "LogSoftmaxGather: targets do not fit the logits",
      `int64${formatShape(lead)}`,
      `${targets.dtype}${formatShape(targets.shape)} at ${callerSite()}`,
    );
  return emit("LogSoftmaxGather", [logits, targets], {}, targets.shape, logits.dtype);
}
// dlogits = d ⊙ (onehot(t) − softmax(x)): scatter-add d at the targets into −d⊙softmax (no zeros tensor).
const LogSoftmaxGather: OpDef = {
  lower: (n, cx) => {
    const [ls, idx, picked] = [cx.temp("logsoftmax"), cx.temp("idx"), cx.temp("picked")];
    const last = cx.int64s([-1]);
    cx.add("LogSoftmax", [cx.input(0)], [ls], { axis: { i: -1 } });
    cx.add("Unsqueeze", [cx.input(1), last], [idx]);
    cx.add("GatherElements", [ls, idx], [picked], { axis: { i: n.shape.length } });
    cx.add("Squeeze", [picked, last], [cx.output]);
  },
  vjp: (d, n) => {
    const [x, t] = [arg(n, 0), arg(n, 1)];
    const d1 = reshape(d, [...d.shape, 1]); // [..., 1]
    return [scatterElementsAdd(mul(softmaxLast(x), neg(d1)), reshape(t, [...t.shape, 1]), d1, -1), null];
  },
};

// ---- registry ----

export const SOFTMAX = { Softmax, LogSoftmaxGather } satisfies Record<string, OpDef>;
