// The graph IR: nodes are plain readonly records appended to a Graph while tracing, with creation site
// and scoped names for provenance. Ops live in the family files; this file knows none of them.

import { IopoError, ShapeError } from "../errors.ts";
import { type Dim, type DType, formatShape, type Shape } from "./shapes.ts";
import { callerSite } from "./site.ts";

export { callerSite };

// ---- types ----

export type AttrValue = number | string | boolean | null | readonly (number | string)[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/** A node is plain data: no closures, no gradient stored on it. A node is also the tensor handle ops take. */
export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly number[];
  readonly attrs: Attrs;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Scoped name, e.g. `layers.3.attn.q_proj/MatMul`. */
  readonly name: string;
  /** Creation site `file:line`, the first stack frame outside src/engine. */
  readonly site: string;
}

/** A recomputed segment (checkpoint.ts): nodes start..end, entered from `inputs`, read after it only through `outputs`. */
export interface Segment {
  readonly start: number;
  readonly end: number;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

export interface GraphJSON {
  readonly format: "iopo-graph";
  readonly version: 2;
  readonly nodes: readonly Node[];
}

// ---- helpers ----

// ---- exports ----

export class Graph {
  readonly nodes: Node[] = [];
  readonly scopes: string[] = [];
  /** Checkpointed segments, in creation order (not part of the JSON form: a loaded graph keeps every value). */
  readonly segments: Segment[] = [];
  /**
   * While a gradient rule runs: inputs it reads through `arg()` in place of the node's own (node id → id). The
   * walker sets it to hand a rule re-upcast half-precision weights (autodiff.ts).
   */
  argSubstitutes: ReadonlyMap<number, number> | null = null;

  /** Append a node; `inputs` must be nodes of this graph. */
  add(op: string, inputs: readonly Node[], attrs: Attrs, shape: Shape, dtype: DType, site?: string): Node {
    for (const x of inputs) {
      if (this.nodes[x.id] !== x)
        throw new ShapeError(`${callerSite()}: ${op}: input #${x.id} (${x.name}) belongs to another graph`, {
          hint: "build every tensor of one computation inside one trace()",
        });
    }
    const scope = this.scopes.join(".");
    const node: Node = Object.freeze({
      id: this.nodes.length,
      op,
      inputs: Object.freeze(inputs.map((x) => x.id)),
      attrs: Object.freeze({ ...attrs }),
      shape: Object.freeze([...shape]) as readonly Dim[],
      dtype,
      name: scope ? `${scope}/${op}` : op,
      site: site ?? callerSite(),
    });
    this.nodes.push(node);
    return node;
  }

  node(id: number): Node {
    const n = this.nodes[id];
    if (!n) throw new IopoError(`graph has no node #${id}`, { expected: `an id below ${this.nodes.length}` });
    return n;
  }

  inputsOf(n: Node): Node[] {
    return n.inputs.map((i) => this.nodes[i]);
  }

  toJSON(): GraphJSON {
    return { format: "iopo-graph", version: 2, nodes: this.nodes };
  }

  static fromJSON(json: GraphJSON): Graph {
    // Version 2: Slice and Pad hold their bounds as lists of dims (symbolic bounds); version 1 graphs held numbers.
    if (json.format !== "iopo-graph" || json.version !== 2)
      throw new IopoError("not an iopo graph of this version", {
        expected: "format iopo-graph version 2",
        got: `${String(json.format)} version ${String(json.version)}`,
        hint: "trace the graph again with this version of iopo",
      });
    const g = new Graph();
    for (const n of json.nodes) {
      if (n.id !== g.nodes.length)
        throw new IopoError("graph nodes out of order", { expected: `id ${g.nodes.length}`, got: `id ${n.id}` });
      g.nodes.push(Object.freeze({ ...n, inputs: [...n.inputs], shape: [...n.shape], attrs: { ...n.attrs } }));
    }
    return g;
  }
}

let active: Graph | null = null;

/** The graph being traced; ops append to it. */
export function currentGraph(): Graph {
  if (!active) throw new IopoError("no graph is being traced", { hint: "call engine ops inside trace(() => …)" });
  return active;
}

/** Run `fn` with `graph` (a new one by default) as the active graph. Nested traces restore the outer graph. */
export function trace<T>(fn: () => T, graph: Graph = new Graph()): { graph: Graph; result: T } {
  const saved = active;
  active = graph;
  try {
    return { graph, result: fn() };
  } finally {
    active = saved;
  }
}

/** Push a name scope (`layers.3`, `attn`) for the nodes created by `fn`. */
export function scope<T>(name: string, fn: () => T): T {
  const g = currentGraph();
  g.scopes.push(name);
  try {
    return fn();
  } finally {
    g.scopes.pop();
  }
}

/** Append a node to the active graph (used by op builders). */
export function emit(op: string, inputs: readonly Node[], attrs: Attrs, shape: Shape, dtype: DType): Node {
  return currentGraph().add(op, inputs, attrs, shape, dtype);
}

export function describeNode(n: Node): string {
  return `${n.op} ${n.dtype}${formatShape(n.shape)} (${n.name} at ${n.site})`;
}
