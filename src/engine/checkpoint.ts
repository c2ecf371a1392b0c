// Activation checkpointing (recomputation): a segment of the forward graph whose intermediates the backward pass
// does not keep. `checkpoint(f, xs)` traces f as usual and marks its nodes; the autodiff walker (autodiff.ts)
// re-emits the segment's nodes from its inputs when the gradient reaches the segment's outputs and differentiates
// the copies, so only the segment's inputs live from the forward to the backward pass. The copies take their
// inputs through `After(x, d)`: the value x, computed only once the gradient d exists — which keeps ONNX Runtime
// from merging the copies with the originals (common-subexpression elimination) or running them early.

import { currentGraph, emit, type Node } from "./graph.ts";
import { type OpDef, shapeError } from "./opdef.ts";

// ---- After ----
/** x, once `dep` has been computed (a scheduling dependency with no numeric effect; gradient flows to x only). */
export function after(x: Node, dep: Node): Node {
  return emit("After", [x, dep], {}, x.shape, x.dtype);
}
// Where(isNaN(dep[0]), x, x) equals x whatever dep holds (NaN included) and reads one element of dep.
const After: OpDef = {
  lower: (_n, cx) => {
    const [flat, first, cond] = [cx.temp("flat"), cx.temp("first"), cx.temp("cond")];
    cx.add("Reshape", [cx.input(1), cx.int64s([-1])], [flat]);
    cx.add("Slice", [flat, cx.int64s([0]), cx.int64s([1])], [first]);
    cx.add("IsNaN", [first], [cond]);
    cx.add("Where", [cond, cx.input(0), cx.input(0)], [cx.output]);
  },
  vjp: (d) => [d, null],
};

export const CHECKPOINT = { After } satisfies Record<string, OpDef>;

// ---- exports ----

/**
 * Run `f` on `xs` as a recomputed segment: its forward values are used as traced, and the backward pass
 * recomputes them from `xs` instead of keeping them (less memory, about one more forward pass of compute).
 * Every node f creates may be read after the segment only through its returned outputs.
 */
export function checkpoint(f: (...xs: Node[]) => Node[], xs: readonly Node[]): Node[] {
  const g = currentGraph();
  const start = g.nodes.length;
  const outs = f(...xs);
  const end = g.nodes.length - 1;
  if (g.segments.some((s) => s.start >= start))
    throw shapeError(
      "checkpoint: segments cannot be nested",
      "one checkpoint level",
      `a segment inside #${start}–#${end}`,
    );
  for (const o of outs)
    if (o.id < start || o.id > end)
      throw shapeError("checkpoint: an output was not computed inside the segment", `a node #${start}–#${end}`, o.name);
  if (end >= start) g.segments.push({ start, end, inputs: xs.map((x) => x.id), outputs: outs.map((o) => o.id) });
  return outs;
}
