// Half-precision weights held as stored: a graph input of dtype bfloat16 or float16 carries the 16-bit patterns
// (onnxruntime-node has no bfloat16 tensor: those travel as uint16 bits), and `upcast` turns them into float32
// where a matmul needs them. The upcast runs per use: it waits for an activation (`dep`) so that ONNX Runtime
// schedules it right before its consumer and never merges two uses into one long-lived float32 copy, and the
// autodiff walker re-emits it for the backward pass (autodiff.ts) instead of keeping the forward's copy alive.

import { emit, type Node } from "./graph.ts";
import { type OpDef, shapeError } from "./opdef.ts";
import { isHalf } from "./shapes.ts";

// ---- Upcast ----
/**
 * float32 values of half-precision bits `x` (bfloat16 or float16), computed once `dep` (a float tensor, any shape)
 * exists. Without `dep` the cast may run as early as its input allows (fine for gathered rows, which exist late).
 */
export function upcast(x: Node, dep?: Node): Node {
  if (!isHalf(x.dtype)) throw shapeError("upcast: needs half-precision bits", "bfloat16 or float16", x.dtype);
  if (dep && dep.dtype !== "float32") throw shapeError("upcast: dep must be float32", "float32", dep.dtype);
  return emit("Upcast", dep ? [x, dep] : [x], {}, x.shape, "float32");
}

// The scheduling dependency reshapes the bits to their own shape plus 0·isNaN(dep[0]): a byte-exact view (a Where
// on float16 turns −0 into +0) that cannot run before dep. bfloat16 bits arrive as uint16; BitCast (opset 26)
// gives them their type before the Cast.
const Upcast: OpDef = {
  lower: (n, cx) => {
    let h = cx.input(0);
    if (n.inputs.length === 2) {
      const t = (hint: string) => cx.temp(hint);
      const [flat, first, nan, nanInt, zero, shape, kept] = [
        t("flat"),
        t("first"),
        t("nan"),
        t("nan_i64"),
        t("zero"),
        t("shape"),
        t("kept"),
      ];
      cx.add("Reshape", [cx.input(1), cx.int64s([-1])], [flat]);
      cx.add("Slice", [flat, cx.int64s([0]), cx.int64s([1])], [first]);
      cx.add("IsNaN", [first], [nan]);
      cx.add("Cast", [nan], [nanInt], { to: { i: 7 } });
      cx.add("Mul", [nanInt, cx.int64s([0])], [zero]);
      cx.add("Add", [cx.shape(n.shape), zero], [shape]);
      cx.add("Reshape", [h, shape], [kept]);
      h = kept;
    }
    if (cx.node(0).dtype === "bfloat16") {
      const typed = cx.temp("bf16");
      cx.add("BitCast", [h], [typed], { to: { i: 16 } });
      h = typed;
    }
    cx.add("Cast", [h], [cx.output], { to: { i: 1 } });
  },
  // Stored half-precision weights are frozen: no gradient to the bits, and none through the scheduling dependency.
  vjp: (_d, n) => n.inputs.map(() => null),
};

export const HALF = { Upcast } satisfies Record<string, OpDef>;
