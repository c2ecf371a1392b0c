// MatMul with numpy batch broadcasting (both operands rank ≥ 2). One stanza.
// The weight gradient of a batched-activation × 2-D-weight product is one flattened GEMM, not a batched one
// followed by a reduction: that is the common case (every linear layer), so it gets the layout care below.

import { emit, type Node } from "./graph.ts";
import { arg, checkRank, type OpDef, sameDtype, shapeError } from "./opdef.ts";
import { reshape, transposeLast } from "./shape.ts";
import { broadcastShapes, dimEq, formatShape } from "./shapes.ts";

// ---- MatMul ----
/** a [..., M, K] @ b [..., K, N] → [..., M, N]. */
export function matmul(a: Node, b: Node): Node {
  checkRank("MatMul", a, (r) => r >= 2, "rank ≥ 2");
  checkRank("MatMul", b, (r) => r >= 2, "rank ≥ 2");
  sameDtype("MatMul", a, b);
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  if (!dimEq(K, K2))
    throw shapeError(
      "MatMul: inner dims differ",
      `b with ${K} rows for a ${formatShape(a.shape)}`,
      formatShape(b.shape),
    );
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "MatMul");
  return emit("MatMul", [a, b], {}, [...batch, M, N], a.dtype);
}
const MatMul: OpDef = {
  lower: (_n, cx) => cx.add("MatMul", [cx.input(0), cx.input(1)], [cx.output]),
  vjp: (d, n) => {
    const [a, b] = [arg(n, 0), arg(n, 1)];
    const [K, N] = b.shape.slice(-2);
    // [.., M, K] = [.., M, N] @ [.., N, K]
    const da = matmul(d, transposeLast(b));
    // A 2-D b is a weight, almost always Wᵀ from linear(): compute ([N, B*M] @ [B*M, K])ᵀ so that the transpose
    // cancels against Wᵀ's own and the weight gradient comes out in its stored [out, in] layout, with no copy.
    // Other cases stay batched, and the walker sums broadcast batch dims.
    const db =
      b.shape.length === 2 && a.shape.length > 2
        ? transposeLast(matmul(transposeLast(reshape(d, [-1, N])), reshape(a, [-1, K])))
        : matmul(transposeLast(a), d);
    return [da, db];
  },
};

// ---- registry ----

export const MATMUL = { MatMul } satisfies Record<string, OpDef>;
