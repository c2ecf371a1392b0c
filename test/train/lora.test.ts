// LoRA in the one training step: with B = 0 the adapted model is the base (the reference log-probs exactly);
// with a trained-looking adapter its log-probs and loss equal the base with W + (α/r)·B·A merged in, and the
// adapter gradients equal the chain rule through the merged weights' gradient: dA = s·Bᵀ·dW, dB = s·dW·Aᵀ.

import assert from "node:assert/strict";
import { test } from "node:test";
import { initLora, loraTable, type ModelParams, makeRng, mergeLora } from "../../src/model/index.ts";
import { lossParams, resolveLoss, type TokenizedRecord, TrainStep } from "../../src/train/index.ts";
import { asGroups, golden, relNormDiff } from "./helpers.ts";

const OPTS = { batch: 4, clip: 0, threads: 2, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } };
const SPEC = { rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"] as const };

async function gradientsOf(step: TrainStep, records: TokenizedRecord[], ref: Float64Array[]) {
  const g = await step.gradients(records, ref);
  return { ...g, grads: step.opt.grads.map((x) => Float32Array.from(x)) };
}

for (const name of ["qwen2-tiny", "llama-tiny"])
  test(`${name}: LoRA step equals the merged model (log-probs, loss) and the chain rule (gradients)`, async () => {
    const { groups, policy, reference } = await golden(name);
    const cfg = policy.config;
    const records = asGroups(groups);
    const loss = resolveLoss(lossParams({ name: "iopo" }));
    const table = loraTable(cfg, { ...SPEC, targets: [...SPEC.targets] });
    const scale = SPEC.alpha / SPEC.rank;
    const base = policy.params;
    // Reference log-probs from the reference model (as the trainer computes them once).
    const full = await TrainStep.create(
      cfg,
      base.table,
      base.tensors.map((t) => Float32Array.from(t)),
      loss,
      OPTS,
    );
    const lp0 = await full.logps(
      reference.params.tensors,
      records.flatMap((r) => r.seqs),
    );
    const ref = records.map((_, i) => Float64Array.from(lp0.subarray(4 * i, 4 * i + 4)));
    const baseLp = await gradientsOf(full, records, ref);
    await full.close();

    // The reference with adapters off is the base scoring program: the same log-probs, bit for bit. A fresh
    // adapter (B = 0) leaves the model as it is (the adapted graph sums in another order: last-bit differences).
    const fresh = initLora(table, 3);
    const step0 = await TrainStep.create(cfg, table, fresh.tensors, loss, OPTS, { scale, base: base.tensors });
    const off = await step0.logps(
      reference.params.tensors,
      records.flatMap((r) => r.seqs),
    );
    assert.deepEqual([...off], [...lp0]);
    const g0 = await gradientsOf(step0, records, ref);
    for (const [i, l] of g0.lp.entries())
      for (const [s, v] of l.entries())
        assert.ok(
          Math.abs(v - baseLp.lp[i]![s]!) <= 1e-6 * Math.abs(v),
          `record ${i}/${s}: ${v} vs ${baseLp.lp[i]![s]}`,
        );
    await step0.close();

    // An adapter with B ≠ 0.
    const rand = makeRng(7);
    const adapter: ModelParams = {
      table,
      tensors: table.map((row, i) =>
        fresh.tensors[i]!.map((x) => (row.key.endsWith("lora_B.weight") ? (rand() - 0.5) * 0.2 : x)),
      ),
    };
    const step = await TrainStep.create(
      cfg,
      table,
      adapter.tensors.map((t) => Float32Array.from(t)),
      loss,
      OPTS,
      {
        scale,
        base: base.tensors,
      },
    );
    const gl = await gradientsOf(step, records, ref);
    await step.close();
    const merged = mergeLora(base, { spec: { ...SPEC, targets: [...SPEC.targets] }, params: adapter, base: null });
    const mstep = await TrainStep.create(cfg, base.table, merged.tensors, loss, OPTS);
    const gm = await gradientsOf(mstep, records, ref);
    await mstep.close();
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-3, Math.abs(b));
    assert.ok(rel(gl.loss, gm.loss) < 1e-5, `loss ${gl.loss} vs merged ${gm.loss}`);
    assert.ok(Math.abs(gl.loss - baseLp.loss) > 1e-4, "the adapter changes the loss (the check is not trivial)");
    for (const [i, l] of gm.lp.entries())
      for (const [s, v] of l.entries())
        assert.ok(rel(gl.lp[i]![s]!, v) < 1e-5, `lp ${i}/${s}: ${gl.lp[i]![s]} vs ${v}`);

    // Chain rule through W' = W + s·B·A: dA = s·Bᵀ·dW' [r, in], dB = s·dW'·Aᵀ [out, r].
    const dW = new Map(base.table.map((row, i) => [row.key, { shape: row.shape, g: gm.grads[i]! }]));
    let worst = 0;
    for (let i = 0; i < table.length; i += 2) {
      const module = table[i]!.key.replace(/\.lora_A\.weight$/, "");
      const { shape, g } = dW.get(`${module}.weight`)!;
      const [out, inp] = shape as [number, number];
      const r = SPEC.rank;
      const A = adapter.tensors[i]!;
      const B = adapter.tensors[i + 1]!;
      const wantA = new Float64Array(r * inp);
      const wantB = new Float64Array(out * r);
      for (let o = 0; o < out; o++)
        for (let k = 0; k < r; k++)
          for (let j = 0; j < inp; j++) {
            wantA[k * inp + j]! += scale * B[o * r + k]! * g[o * inp + j]!;
            wantB[o * r + k]! += scale * g[o * inp + j]! * A[k * inp + j]!;
          }
      for (const [got, want] of [
        [gl.grads[i]!, wantA],
        [gl.grads[i + 1]!, wantB],
      ] as const)
        worst = Math.max(worst, relNormDiff(got, want));
    }
    console.log(`${name}: LoRA adapter gradients vs chain rule: max relative error ${worst.toExponential(2)}`);
    assert.ok(worst < 2e-3, `adapter gradients off by ${worst}`);
  });
