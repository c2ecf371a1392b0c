// Gradient checkpointing (engine/checkpoint.ts, the walker in autodiff.ts): recomputed segments give the same
// gradients as kept activations (hand-computed case, a Llama block, every method's training step on both golden
// models), no backward node reads a segment's intermediate, ONNX Runtime does not merge the recomputation back
// (measured peak RSS of a forward + backward drops), and misuse is refused.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as E from "../../src/engine/index.ts";
import { IopoError, ShapeError } from "../../src/errors.ts";
import { lossParams, resolveLoss, type TokenizedRecord, TrainStep, tokenizedFromIds } from "../../src/train/index.ts";
import { asGroups, asPairs, golden, relNormDiff } from "../train/helpers.ts";
import { checkOp } from "./check-op.ts";

const PROBE = fileURLToPath(new URL("../model/memory-probe.ts", import.meta.url));

async function run(outputs: Record<string, E.Node>, graph: E.Graph, feeds: Record<string, E.Feed>) {
  const p = await E.Program.create(E.toOnnx(graph, outputs), { threads: 1 });
  return p.run(feeds);
}

test("After(x, d) is x whatever d holds (NaN included); the gradient goes to x only (finite differences)", async () => {
  await checkOp([[2, 3], [4]], E.after, { reference: (xs) => xs[0]! });
  const { graph, result } = E.trace(() => ({ y: E.after(E.input("x", [3]), E.input("d", [2])) }));
  const r = await run(result, graph, {
    x: { data: new Float32Array([1, -0.5, 2.5]), dims: [3] },
    d: { data: new Float32Array([Number.NaN, 1]), dims: [2] },
  });
  assert.deepEqual(Array.from(r.y as Float32Array), [1, -0.5, 2.5]);
});

test("a checkpointed segment's gradient by hand: y = x²·w recomputed in the backward pass", async () => {
  // f(x) = Σ (x²·w)·3 with the segment x ↦ x²·w: d/dx = 6·x·w, d/dw = 3·x².
  const { graph, result } = E.trace(() => {
    const x = E.input("x", [3], "float64");
    const w = E.input("w", [3], "float64");
    const [y] = E.checkpoint((a) => [E.mul(E.mul(a, a), w)], [x]);
    const loss = E.reduceSum(E.mul(y!, 3), [0]);
    const [dx, dw] = E.grad(() => loss)(x, w);
    return { loss, dx, dw };
  });
  assert.equal(graph.segments.length, 1);
  assert.ok(
    graph.nodes.some((n) => n.op === "After"),
    "the recomputation enters through After",
  );
  const r = await run(result, graph, {
    x: { data: new Float64Array([1, -2, 3]), dims: [3] },
    w: { data: new Float64Array([0.5, 2, -1]), dims: [3] },
  });
  assert.deepEqual(Array.from(r.dx as Float64Array), [3, -24, -18]);
  assert.deepEqual(Array.from(r.dw as Float64Array), [3, 12, 27]);
  assert.equal((r.loss as Float64Array)[0], 3 * (0.5 + 8 - 9));
});

test("no backward node reads a checkpointed segment's intermediates (only its inputs and outputs cross)", () => {
  const { graph } = E.trace(() => {
    const x = E.input("x", [4, 8]);
    const w = E.input("w", [8, 8]);
    let h = x;
    for (let i = 0; i < 3; i++)
      [h] = E.checkpoint((a) => [E.add(a, E.sigmoid(E.matmul(E.mul(a, a), w)))], [h]) as [E.Node];
    const loss = E.reduceSum(E.mul(h, h), [0, 1]);
    return E.grad(() => loss)(x, w);
  });
  const inside = new Set<number>();
  const exits = new Set<number>();
  for (const s of graph.segments) {
    for (let id = s.start; id <= s.end; id++) if (graph.nodes[id]!.inputs.length > 0) inside.add(id);
    for (const o of s.outputs) exits.add(o);
  }
  const lastForward = Math.max(...graph.segments.map((s) => s.end));
  const backward = graph.nodes.filter((n) => n.id > lastForward + 3); // after the loss
  assert.ok(backward.length > 0);
  for (const n of backward)
    for (const i of n.inputs)
      assert.ok(!inside.has(i) || exits.has(i), `${n.name} reads ${graph.nodes[i]!.name} from the forward pass`);
});

test("misuse is refused: an intermediate read outside, nested segments", () => {
  assert.throws(
    () =>
      E.trace(() => {
        const x = E.input("x", [2]);
        let leaked: E.Node | null = null;
        const [y] = E.checkpoint(
          (a) => {
            leaked = E.mul(a, a);
            return [E.add(leaked, a)];
          },
          [x],
        );
        const loss = E.reduceSum(E.add(y!, leaked!), [0]);
        return E.grad(() => loss)(x);
      }),
    (e: unknown) => e instanceof IopoError && /intermediate is read outside it/.test(e.message),
  );
  assert.throws(
    () =>
      E.trace(() => {
        const x = E.input("x", [2]);
        return E.checkpoint((a) => E.checkpoint((b) => [E.mul(b, b)], [a]), [x]);
      }),
    (e: unknown) => e instanceof ShapeError && /cannot be nested/.test(e.message),
  );
});

for (const name of ["llama-tiny", "qwen2-tiny"])
  for (const method of ["iopo", "dpo", "sft"] as const)
    for (const sharedPrefix of method === "sft" ? [false] : [false, true])
      test(`${name} ${method}${sharedPrefix ? " (shared prefix)" : ""}: checkpointed layers give the same loss and gradients`, async () => {
        const { groups, policy, reference } = await golden(name);
        const data: TokenizedRecord[] =
          method === "dpo"
            ? asPairs(groups)
            : method === "iopo"
              ? asGroups(groups)
              : groups.map((g, i) => tokenizedFromIds(`s${i}`, "example", [g.x1], [g.y1]));
        const S = data[0]!.seqs.length;
        const loss = resolveLoss(lossParams({ name: method, sft_weight: 0.2 }));
        const stepWith = async (checkpoint: boolean) => {
          const step = await TrainStep.create(
            policy.config,
            policy.params.table,
            policy.params.tensors.map((t) => Float32Array.from(t)),
            loss,
            {
              batch: 2,
              clip: 0,
              threads: 2,
              adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
              sharedPrefix,
              // Shared prefix with split attention: its slices and joins are recomputed inside the segments too.
              splitAttention: sharedPrefix,
              checkpoint,
            },
          );
          const lp = await step.logps(
            reference.params.tensors,
            data.flatMap((r) => r.seqs),
          );
          const ref = data.map((_, i) => Float64Array.from(lp.subarray(i * S, (i + 1) * S)));
          const g = await step.gradients(data, ref);
          const grads = step.opt.grads.map((x) => Float32Array.from(x));
          await step.close();
          return { loss: g.loss, grads };
        };
        const kept = await stepWith(false);
        const recomputed = await stepWith(true);
        assert.ok(Math.abs(recomputed.loss - kept.loss) <= 1e-6 * Math.max(1, Math.abs(kept.loss)));
        // Per tensor, the norm of the difference relative to the gradient's norm.
        let worst = 0;
        for (const [k, g] of kept.grads.entries()) worst = Math.max(worst, relNormDiff(recomputed.grads[k]!, g));
        assert.ok(worst < 1e-5, `gradients differ by ${worst} (relative norm)`);
      });

test("ONNX Runtime keeps the recomputation: a forward + backward's peak RSS drops with checkpointed layers", () => {
  // 8 layers, 4 × 512 tokens: the kept activations are most of the run's memory.
  const args = [256, 8, 4, 2, 1024, 4096, 4, 512, 256];
  const grown = (ck: number) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", PROBE, ...args.map(String), String(ck)], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { grown: number }).grown;
  };
  const kept = grown(0);
  const recomputed = grown(1);
  console.log(
    `peak RSS growth: kept ${(kept / 2 ** 20).toFixed(0)} MB, recomputed ${(recomputed / 2 ** 20).toFixed(0)} MB`,
  );
  assert.ok(recomputed < 0.7 * kept, `recomputed ${recomputed} vs kept ${kept}`);
});
