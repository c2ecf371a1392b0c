// Graph IR: nodes are frozen plain data, JSON round-trip, scoped names, creation sites in shape errors.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as E from "../../src/engine/index.ts";
import { ShapeError } from "../../src/errors.ts";

const build = () =>
  E.trace(() => {
    const x = E.input("x", ["B", "T", 8]);
    const w = E.input("w", [4, 8]);
    const y = E.scope("layers.3", () => E.scope("attn.q_proj", () => E.linear(x, w)));
    return E.reduceSum(E.reshape(y, [-1]), [0]);
  });

test("nodes are frozen plain data and round-trip through JSON", () => {
  const { graph } = build();
  assert.ok(Object.isFrozen(graph.nodes[0]));
  const json = JSON.parse(JSON.stringify(graph.toJSON()));
  const back = E.Graph.fromJSON(json);
  assert.deepEqual(back.toJSON(), graph.toJSON());
  // The round-tripped graph lowers to the same ONNX.
  const out = (g: E.Graph) => E.toOnnx(g, { y: g.nodes[g.nodes.length - 1] }).bytes;
  assert.deepEqual(out(back), out(graph));
});

test("scoped names and symbolic shapes", () => {
  const { graph } = build();
  const mm = graph.nodes.find((n) => n.op === "MatMul");
  assert.equal(mm?.name, "layers.3.attn.q_proj/MatMul");
  assert.deepEqual(mm?.shape, ["B", "T", 4]);
  const flat = graph.nodes.find((n) => n.op === "Reshape");
  assert.deepEqual(flat?.shape, ["4*B*T"]);
});

test("shape errors name the creation site (file:line outside src/engine)", () => {
  assert.throws(
    () =>
      E.trace(() => {
        const a = E.input("a", ["B", 3]);
        const b = E.input("b", [4, 5]);
        return E.matmul(a, b); // SITE-MARKER
      }),
    (err: unknown) => {
      assert.ok(err instanceof ShapeError);
      const src = readFileSync(new URL(import.meta.url), "utf8").split("\n");
      const line = src.findIndex((l) => l.includes("// SITE-MARKER")) + 1;
      assert.ok(err.message.startsWith(`test/engine/graph.test.ts:${line}: MatMul: inner dims differ`), err.message);
      assert.match(err.message, /got \[4, 5\]/);
      return true;
    },
  );
  assert.throws(
    () => E.trace(() => E.add(E.input("a", [2, 3]), E.input("b", [4]))),
    /graph\.test\.ts:\d+: Add: shapes do not broadcast/,
  );
  assert.throws(() => E.trace(() => E.add(E.input("a", ["B"]), E.input("b", ["T"]))), /shapes do not broadcast/);
  assert.throws(() => E.trace(() => E.reshape(E.input("a", [2, 3]), [4, -1])), /Reshape: element counts differ/);
});

test("nodes from another graph are refused", () => {
  const { result: x } = E.trace(() => E.input("x", [2]));
  assert.throws(() => E.trace(() => E.neg(x)), /belongs to another graph/);
});
