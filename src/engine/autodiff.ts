// Reverse-mode autodiff over the active graph. The walker does the shared work once: it visits only nodes on a
// path from the inputs to the outputs, stops at StopGradient, sums fan-in, and sums broadcast gradients back to
// each input's shape, and recomputes checkpointed segments (checkpoint.ts) instead of reading their intermediates.
// Rules (in the op files) never handle broadcasting. Does not simplify the backward graph.

import { IopoError, ShapeError } from "../errors.ts";
import { after } from "./checkpoint.ts";
import { add as addNode } from "./elementwise.ts";
import { currentGraph, describeNode, type Graph, type Node, type Segment, scope } from "./graph.ts";
import { upcast } from "./half.ts";
import { constant } from "./opdef.ts";
import { isOpName, VJP_RULES } from "./ops.ts";
import { reduceSum } from "./reduce.ts";
import { reshape, zeros } from "./shape.ts";
import { dimEq, formatShape, isStatic, numel, type Shape } from "./shapes.ts";

// ---- helpers ----

/** Sum a gradient of a broadcast result back to the shape of the input it came from. */
function sumTo(g: Node, shape: Shape): Node {
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
    else if (!dimEq(d, shape[i - lead]))
      throw new ShapeError(`gradient of shape ${formatShape(g.shape)} does not broadcast from ${formatShape(shape)}`);
  });
  return reshape(axes.length ? reduceSum(g, axes, true) : g, shape);
}

/** Ops that only re-view their input: an upcast seen through them is redone as a whole. */
const VIEWS = new Set(["Transpose", "Reshape"]);

/** Whether `id` is an upcast of stored half-precision weights (half.ts), possibly seen through views. */
function isUpcastView(g: Graph, id: number): boolean {
  let n = g.nodes[id];
  while (VIEWS.has(n.op)) n = g.nodes[n.inputs[0]];
  return n.op === "Upcast";
}

/** The upcast `id` (and the views over it) emitted again, once `dep` exists: the backward's own float32 copy. */
function reupcast(g: Graph, id: number, dep: Node): Node {
  const n = g.nodes[id];
  if (n.op === "Upcast") return upcast(g.nodes[n.inputs[0]], dep);
  const inner = reupcast(g, n.inputs[0], dep);
  const rest = n.inputs.slice(1).map((i) => g.nodes[i]);
  return g.add(n.op, [inner, ...rest], n.attrs, n.shape, n.dtype, n.site);
}

/**
 * The VJP rule of `n` applied to `d`: one gradient (or null) per input, named under `grad.<node>`. An input that is
 * an upcast half-precision weight is upcast again for the rule (after d), so the forward's float32 copy dies with
 * its forward use instead of living until the backward pass.
 */
function pullback(g: Graph, n: Node, d: Node): readonly (Node | null)[] {
  if (!isOpName(n.op))
    throw new IopoError(`no gradient rule for op ${n.op}`, { path: n.site, expected: "an op listed in VJP_RULES" });
  g.scopes.push(`grad.${n.name.replace("/", ".")}`);
  const redo = d.dtype === "float32" ? n.inputs.filter((i) => isUpcastView(g, i)) : [];
  g.argSubstitutes = redo.length > 0 ? new Map(redo.map((i) => [i, reupcast(g, i, d).id])) : null;
  let gs: readonly (Node | null)[];
  try {
    gs = VJP_RULES[n.op](d, n);
  } finally {
    g.argSubstitutes = null;
  }
  g.scopes.pop();
  if (gs.length !== n.inputs.length)
    throw new IopoError(`gradient rule for ${n.op} returned ${gs.length} gradients for ${n.inputs.length} inputs`, {
      path: n.site,
    });
  return gs;
}

/** Checkpointed segments that end at or before `last`, after checking that nothing outside reads their insides. */
function segmentsUpTo(g: Graph, last: number): Segment[] {
  const segs = g.segments.filter((s) => s.end <= last);
  if (segs.length === 0) return segs;
  const owner = new Int32Array(last + 1).fill(-1);
  for (const [k, s] of segs.entries()) owner.fill(k, s.start, s.end + 1);
  const exits = new Set(segs.flatMap((s) => s.outputs));
  for (let id = 0; id <= last; id++)
    for (const i of g.nodes[id].inputs)
      if (owner[i] >= 0 && owner[i] !== owner[id] && !exits.has(i))
        throw new IopoError("a checkpointed segment's intermediate is read outside it", {
          path: g.nodes[id].site,
          got: describeNode(g.nodes[i]),
          hint: "return every value used after the segment from the checkpointed function",
        });
  return segs;
}

/**
 * Backward through a checkpointed segment: re-emit its nodes (leaves kept; the segment's inputs and any other value
 * computed before it taken through After(x, d), so the copies run only once the gradient d exists), then pull the
 * output gradients back through the copies. Gradients that leave the segment are accumulated on the original nodes.
 */
function recompute(
  g: Graph,
  seg: Segment,
  reach: Uint8Array,
  grads: Map<number, Node>,
  accumulate: (id: number, d: Node) => void,
): void {
  const douts = seg.outputs.map((o) => grads.get(o));
  const dep = douts.find((d) => d !== undefined);
  if (!dep) return;
  const copy = new Map<number, Node>();
  const entered = new Map<number, Node>();
  const enter = (i: number): Node => {
    const x = g.nodes[i];
    if (x.inputs.length === 0 && !seg.inputs.includes(i)) return x; // weights and constants are read as they are
    if (!entered.has(i))
      entered.set(
        i,
        scope("recompute", () => after(x, dep)),
      );
    return entered.get(i)!;
  };
  for (let id = seg.start; id <= seg.end; id++) {
    const n = g.nodes[id];
    if (n.inputs.length === 0) {
      copy.set(id, n);
      continue;
    }
    const ins = n.inputs.map((i) => (i >= seg.start ? copy.get(i)! : enter(i)));
    copy.set(
      id,
      scope("recompute", () => g.add(n.op, ins, n.attrs, n.shape, n.dtype, n.site)),
    );
  }
  const local = new Map<number, Node>();
  const add = (id: number, d: Node) => {
    const prev = local.get(id);
    local.set(id, prev ? addNode(prev, d) : d);
  };
  for (const [k, o] of seg.outputs.entries()) if (douts[k]) add(o, douts[k]);
  for (let id = seg.end; id >= seg.start; id--) {
    const d = local.get(id);
    const c = copy.get(id)!;
    if (!d || !reach[id] || c.inputs.length === 0) continue;
    pullback(g, c, d).forEach((gi, i) => {
      const src = g.nodes[id].inputs[i];
      if (!gi || !reach[src]) return;
      const sum = sumTo(gi, g.nodes[src].shape);
      if (src >= seg.start && g.nodes[src].inputs.length > 0) add(src, sum);
      else accumulate(src, sum);
    });
  }
}

// ---- exports ----

/**
 * Gradients of `outputs` (with cotangents `seeds`) with respect to `wrt`, appended to the active graph.
 * Inputs that the outputs do not depend on get zeros.
 */
export function gradients(outputs: readonly Node[], seeds: readonly Node[], wrt: readonly Node[]): Node[] {
  const g = currentGraph();
  const last = Math.max(...outputs.map((o) => o.id));
  // Forward reachability from wrt: only these nodes can carry a gradient to wrt.
  const wanted = new Set(wrt.map((w) => w.id));
  const reach = new Uint8Array(last + 1);
  for (let id = 0; id <= last; id++) {
    const n = g.nodes[id];
    const stops = n.op === "StopGradient" || n.op === "Upcast"; // an upcast's dependency carries no gradient
    reach[id] = wanted.has(id) || (!stops && n.inputs.some((i) => reach[i])) ? 1 : 0;
  }
  const grads = new Map<number, Node>();
  const accumulate = (id: number, d: Node) => {
    const prev = grads.get(id);
    grads.set(id, prev ? addNode(prev, d) : d);
  };
  outputs.forEach((o, i) => {
    if (!dimEq(numel(seeds[i].shape), numel(o.shape)) || seeds[i].dtype !== o.dtype)
      throw new ShapeError(`cotangent for ${describeNode(o)} has the wrong shape`, {
        expected: formatShape(o.shape),
        got: `${seeds[i].dtype}${formatShape(seeds[i].shape)}`,
      });
    accumulate(o.id, reshape(seeds[i], o.shape));
  });
  const saved = g.scopes.splice(0);
  try {
    const segments = new Map(segmentsUpTo(g, last).map((s) => [s.end, s]));
    for (let id = last; id >= 0; id--) {
      const seg = segments.get(id);
      if (seg) {
        recompute(g, seg, reach, grads, accumulate);
        id = seg.start; // the segment's own nodes are done
        continue;
      }
      const d = grads.get(id);
      if (!d || !reach[id] || (wanted.has(id) && g.nodes[id].op === "Input")) continue;
      const n = g.nodes[id];
      pullback(g, n, d).forEach((gi, i) => {
        const x = g.nodes[n.inputs[i]];
        if (gi && reach[x.id]) accumulate(x.id, sumTo(gi, x.shape));
      });
    }
  } finally {
    g.scopes.splice(0, g.scopes.length, ...saved);
  }
  return wrt.map((w) => grads.get(w.id) ?? zeros(w.shape, w.dtype));
}

/** `vjp(f, inputs)` → `[out, pullback]`; `pullback(dout)` gives one gradient per input. */
export function vjp(f: (...xs: Node[]) => Node, inputs: readonly Node[]): [Node, (dout: Node) => Node[]] {
  const out = f(...inputs);
  return [out, (dout) => gradients([out], [dout], inputs)];
}

/** `grad(f)(...xs)` → gradients of the scalar `f(...xs)` with respect to each x (seeded with one). */
export function grad(f: (...xs: Node[]) => Node): (...xs: Node[]) => Node[] {
  return (...xs) => {
    const out = f(...xs);
    if (!isStatic(out.shape) || numel(out.shape) !== 1)
      throw new ShapeError("grad needs a scalar output", {
        expected: "a tensor with one element",
        got: `${describeNode(out)}`,
        hint: "reduce the output (reduceSum/reduceMean) or use vjp() with a cotangent",
      });
    return gradients([out], [constant([1], out.shape as number[], out.dtype)], xs);
  };
}
