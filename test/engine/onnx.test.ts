// ONNX emission: round-trip through the protobuf (decode → encode gives the same bytes), opset, symbolic dims
// as dim_params, dead-node pruning, scoped node names, and the op registry's completeness.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";

const build = () =>
  E.trace(() => {
    const x = E.input("x", ["B", 8]);
    const w = E.input("w", [4, 8]);
    const unused = E.input("unused", [3]);
    E.exp(unused); // dead: not on the path to any output
    const y = E.scope("proj", () => E.linear(x, w));
    return { y, s: E.reduceSum(E.reshape(y, [-1]), [0]) };
  });

test("ONNX round-trip: decode and re-encode give the same bytes and structure", () => {
  const { graph, result } = build();
  const model = E.toOnnx(graph, result);
  const decoded = E.decodeOnnx(model.bytes);
  assert.equal(Number(decoded.opsetImport[0].version), E.OPSET);
  const g = decoded.graph!;
  assert.deepEqual(
    g.input?.map((i) => i.name),
    ["x", "w"],
  ); // "unused" is pruned
  assert.deepEqual(
    g.output?.map((o) => o.name),
    ["y", "s"],
  );
  const xDims = g.input?.[0].type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue));
  assert.deepEqual(xDims, ["B", 8]);
  assert.ok(g.node?.some((n) => n.name === "proj/MatMul" && n.opType === "MatMul"));
  assert.ok(!g.node?.some((n) => n.opType === "Exp"));
  const again = (E.decodeOnnx(model.bytes).constructor as unknown as { encode(m: unknown): { finish(): Uint8Array } })
    .encode(decoded)
    .finish();
  assert.deepEqual(Buffer.from(again), Buffer.from(model.bytes));
});

test("every op has a lowering and a VJP rule, and a test lists it", () => {
  assert.deepEqual(Object.keys(E.VJP_RULES).sort(), Object.keys(E.LOWERINGS).sort());
  // Ops with a finite-difference test in test/engine/*.test.ts, or a value test where they carry no gradient
  // (Upcast: half.test.ts). Update when adding an op.
  const tested =
    "Add Sub Mul Div Max Neg Exp Log Sqrt Reciprocal Sigmoid Where Equal Less Cast StopGradient ReduceSum ReduceMean ReduceMax Input Constant Zeros Reshape Transpose Slice Pad Concat Expand MatMul Gather GatherElements ScatterElements GatherND ScatterND Softmax LogSoftmaxGather After Embed Upcast";
  assert.deepEqual(Object.keys(E.OPS).sort(), tested.split(" ").sort());
});

test("two inputs with one name are refused", () => {
  const { graph, result } = E.trace(() => E.add(E.input("x", [2]), E.input("x", [2])));
  assert.throws(() => E.toOnnx(graph, { y: result }), /two graph inputs are named x/);
});
