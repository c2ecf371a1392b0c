// ONNX emitter: lowers the live part of a graph (what the requested outputs depend on) to an ONNX ModelProto
// (opset 26) via onnx-proto. Symbolic dims become dim_params, computed at run time from the input that first
// carries them. Does not run anything: see runtime.ts.

import onnxProto from "onnx-proto";
import { IopoError } from "../errors.ts";
import { ONNX_DTYPE } from "./elementwise.ts";
import type { Graph, Node } from "./graph.ts";
import type { LowerCtx, OnnxAttr } from "./opdef.ts";
import { isOpName, LOWERINGS } from "./ops.ts";
import { type Dim, type DType, dimSymbols, type Shape } from "./shapes.ts";

const { onnx } = onnxProto;

// ---- types ----

export interface TensorInfo {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
}

export interface OnnxModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly nodeCount: number;
}

export const OPSET = 26;
/** The ONNX IR version written: 13, the newest ONNX Runtime 1.30 reads (opset 26 needs a recent one). */
export const IR_VERSION = 13;

// ---- helpers ----

function rawBytes(values: readonly number[], dtype: DType): Uint8Array {
  switch (dtype) {
    case "float32":
      return new Uint8Array(Float32Array.from(values).buffer);
    case "float64":
      return new Uint8Array(Float64Array.from(values).buffer);
    case "int64":
      return new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
    case "int32":
      return new Uint8Array(Int32Array.from(values).buffer);
    case "bool":
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case "bfloat16":
    case "float16":
      throw new IopoError(`no ${dtype} constants: half precision is for stored weights only`, {
        expected: "a float32 constant",
      });
  }
}

function attribute(name: string, a: OnnxAttr): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("i" in a) return { name, type: T.INT, i: a.i };
  if ("f" in a) return { name, type: T.FLOAT, f: a.f };
  if ("ints" in a) return { name, type: T.INTS, ints: [...a.ints] };
  return { name, type: T.STRING, s: new TextEncoder().encode(a.s) };
}

function valueInfo(t: TensorInfo): onnxProto.onnx.IValueInfoProto {
  const dim = t.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d }));
  return { name: t.name, type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim } } } };
}

/** Ids of the nodes the outputs depend on, in topological (id) order. */
export function liveNodes(graph: Graph, outputs: readonly Node[]): Node[] {
  const live = new Uint8Array(graph.nodes.length);
  for (const o of outputs) live[o.id] = 1;
  for (let id = graph.nodes.length - 1; id >= 0; id--)
    if (live[id]) for (const i of graph.nodes[id].inputs) live[i] = 1;
  return graph.nodes.filter((n) => live[n.id]);
}

// ---- exports ----

/** Lower `outputs` (name → node) of `graph` to ONNX bytes. Inputs are the live Input nodes, in creation order. */
export function toOnnx(graph: Graph, outputs: Readonly<Record<string, Node>>, name = "iopo"): OnnxModel {
  const outs = Object.entries(outputs);
  const nodes = liveNodes(
    graph,
    outs.map(([, n]) => n),
  );
  const protoNodes: onnxProto.onnx.INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const inputs: TensorInfo[] = nodes
    .filter((n) => n.op === "Input")
    .map((n) => ({ name: n.attrs.inputName as string, shape: n.shape, dtype: n.dtype }));
  const dup = inputs.find((t, i) => inputs.findIndex((u) => u.name === t.name) !== i);
  if (dup) throw new IopoError(`two graph inputs are named ${dup.name}`, { expected: "unique input names" });
  const valueName = (n: Node) => (n.op === "Input" ? (n.attrs.inputName as string) : `v${n.id}`);
  const usedNames = new Map<string, number>();
  let temps = 0;
  const constCache = new Map<string, string>();
  const shapeCache = new Map<string, string>();

  const addNode = (
    opType: string,
    ins: readonly string[],
    os: readonly string[],
    attrs: Record<string, OnnxAttr> | undefined,
    label: string,
  ) => {
    const k = usedNames.get(label) ?? 0;
    usedNames.set(label, k + 1);
    const nodeAttrs = Object.entries(attrs ?? {}).map(([an, av]) => attribute(an, av));
    protoNodes.push({
      opType,
      input: [...ins],
      output: [...os],
      name: k ? `${label}_${k}` : label,
      attribute: nodeAttrs,
    });
  };
  const constantValue = (values: readonly number[], shape: readonly number[], dtype: DType): string => {
    const key = `${dtype}|${shape.join(",")}|${values.length <= 16 ? values.join(",") : `#${initializers.length}`}`;
    const hit = constCache.get(key);
    if (hit) return hit;
    const cname = `c${initializers.length}`;
    initializers.push({ name: cname, dims: [...shape], dataType: ONNX_DTYPE[dtype], rawData: rawBytes(values, dtype) });
    constCache.set(key, cname);
    return cname;
  };
  // A symbol's run-time size comes from the first input that carries it as a plain dim.
  const symbolSource = (sym: string): string => {
    const cached = shapeCache.get(`sym:${sym}`);
    if (cached) return cached;
    const src = inputs.find((t) => t.shape.includes(sym));
    if (!src)
      throw new IopoError(`symbolic dim ${sym} appears in no graph input`, {
        hint: "give some input a dim named exactly this symbol",
      });
    const out = `shape_${sym}`;
    const axis = src.shape.indexOf(sym);
    addNode("Shape", [src.name], [out], { start: { i: axis }, end: { i: axis + 1 } }, `shape/${sym}`);
    shapeCache.set(`sym:${sym}`, out);
    return out;
  };
  const shapeTensor = (shape: Shape): string => {
    const key = shape.join(",");
    const cached = shapeCache.get(key);
    if (cached) return cached;
    if (shape.every((d) => typeof d === "number")) return constantValue(shape as number[], [shape.length], "int64");
    const pieces = shape.map((d) => {
      if (typeof d === "number") return constantValue([d], [1], "int64");
      const { coef, syms } = dimSymbols(d);
      let acc = symbolSource(syms[0]);
      for (const s of [...syms.slice(1)]) {
        const t = `t${temps++}`;
        addNode("Mul", [acc, symbolSource(s)], [t], undefined, "shape/Mul");
        acc = t;
      }
      if (coef !== 1) {
        const t = `t${temps++}`;
        addNode("Mul", [acc, constantValue([coef], [1], "int64")], [t], undefined, "shape/Mul");
        acc = t;
      }
      return acc;
    });
    const out = `t${temps++}`;
    addNode("Concat", pieces, [out], { axis: { i: 0 } }, "shape/Concat");
    shapeCache.set(key, out);
    return out;
  };

  const dimSum = (dims: readonly Dim[]): string => {
    const fixed = dims.reduce<number>((p, d) => p + (typeof d === "number" ? d : 0), 0);
    const syms = dims.filter((d) => typeof d !== "number");
    if (syms.length === 0) return constantValue([fixed], [1], "int64");
    const key = `sum:${dims.join("+")}`;
    const cached = shapeCache.get(key);
    if (cached) return cached;
    let acc = shapeTensor([syms[0]!]);
    for (const d of [...syms.slice(1), ...(fixed ? [fixed] : [])]) {
      const t = `t${temps++}`;
      addNode("Add", [acc, shapeTensor([d])], [t], undefined, "shape/Add");
      acc = t;
    }
    shapeCache.set(key, acc);
    return acc;
  };
  const joinVector = (parts: readonly string[]): string => {
    const out = `t${temps++}`;
    addNode("Concat", [...parts], [out], { axis: { i: 0 } }, "shape/Concat");
    return out;
  };

  for (const n of nodes) {
    if (!isOpName(n.op)) throw new IopoError(`no ONNX lowering for op ${n.op}`, { path: n.site });
    const cx: LowerCtx = {
      input: (i) => valueName(graph.nodes[n.inputs[i]]),
      node: (i) => graph.nodes[n.inputs[i]],
      output: valueName(n),
      temp: (hint) => `${hint}_${temps++}`,
      add: (opType, ins, os, attrs) => addNode(opType, ins, os, attrs, n.name),
      int64s: (values) => constantValue(values, [values.length], "int64"),
      constant: constantValue,
      shape: shapeTensor,
      sum: dimSum,
      concat: joinVector,
    };
    LOWERINGS[n.op](n, cx);
  }
  for (const [oname, n] of outs) addNode("Identity", [valueName(n)], [oname], undefined, `output/${oname}`);

  const outputInfo = outs.map(([oname, n]) => ({ name: oname, shape: n.shape, dtype: n.dtype }));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: "iopo",
    opsetImport: [{ domain: "", version: OPSET }],
    graph: {
      name,
      node: protoNodes,
      initializer: initializers,
      input: inputs.map(valueInfo),
      output: outputInfo.map(valueInfo),
    },
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), inputs, outputs: outputInfo, nodeCount: protoNodes.length };
}

/** Decode ONNX bytes (for tests and inspection). */
export const decodeOnnx = (bytes: Uint8Array): onnxProto.onnx.ModelProto => onnx.ModelProto.decode(bytes);
