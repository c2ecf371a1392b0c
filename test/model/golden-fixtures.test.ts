// Checks the committed PyTorch golden fixtures against a second, naive float64 Llama/Qwen2 forward written here
// from the conventions in expected.json: the fixtures are self-consistent, the parameter table reads them, and the
// conventions (x ++ y, labels on y, RoPE rotate-half, GQA head mapping, tied head, q/k/v bias) mean what they say.
// The engine's own parity test (float32, gradients, trajectories) lives with the engine.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { getParam, loadModelDir, type ModelDir, modelDims } from "../../src/model/index.ts";

const GOLDEN = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));
const KEYS = ["y1|x1", "y2|x1", "y2|x2", "y1|x2"] as const;
type Lp = Record<(typeof KEYS)[number], number>;
interface Report {
  groups: { lp: Lp; ref_lp: Lp; iopo_loss: number; dpo_loss: number }[];
  mean_iopo_loss: number;
  mean_dpo_loss: number;
  grad_norms: Record<string, number>;
}

/** y[t, o] = Σ_i x[t, i] · W[o, i] (+ b[o]) — HF Linear. x: [T, n], W: [m, n] → [T, m]. */
function linear(x: Float64Array, T: number, W: Float32Array, n: number, b?: Float32Array): Float64Array {
  const m = W.length / n;
  const y = new Float64Array(T * m);
  for (let t = 0; t < T; t++)
    for (let o = 0; o < m; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < n; i++) s += x[t * n + i]! * W[o * n + i]!;
      y[t * m + o] = s;
    }
  return y;
}

function rmsNorm(x: Float64Array, T: number, C: number, w: Float32Array, eps: number): Float64Array {
  const y = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < C; i++) ss += x[t * C + i]! ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    for (let i = 0; i < C; i++) y[t * C + i] = x[t * C + i]! * r * w[i]!;
  }
  return y;
}

/** Rotate-half RoPE in place on [T, heads, D]. */
function rope(x: Float64Array, T: number, heads: number, D: number, theta: number): void {
  for (let t = 0; t < T; t++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < D / 2; i++) {
        const angle = t * theta ** (-(2 * i) / D);
        const at = (t * heads + h) * D;
        const [a, b] = [x[at + i]!, x[at + i + D / 2]!];
        x[at + i] = a * Math.cos(angle) - b * Math.sin(angle);
        x[at + i + D / 2] = b * Math.cos(angle) + a * Math.sin(angle);
      }
}

/** Logits [T, V] of one unpadded sequence. */
function forward(model: ModelDir, ids: readonly number[]): Float64Array {
  const { V, C, L, H, Hkv, D, I, qkvBias, tied, ropeTheta, eps } = modelDims(model.config);
  const P = (key: string) => getParam(model.params, key);
  const T = ids.length;
  const emb = P("model.embed_tokens.weight");
  let x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) x.set(emb.subarray(ids[t]! * C, (ids[t]! + 1) * C), t * C); // [T, C]
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(x, T, C, P(`${p}.input_layernorm.weight`), eps);
    const proj = (n: string) =>
      linear(h, T, P(`${p}.self_attn.${n}_proj.weight`), C, qkvBias ? P(`${p}.self_attn.${n}_proj.bias`) : undefined);
    const [q, k, v] = [proj("q"), proj("k"), proj("v")]; // [T, H*D], [T, Hkv*D], [T, Hkv*D]
    rope(q, T, H, D, ropeTheta);
    rope(k, T, Hkv, D, ropeTheta);
    const y = new Float64Array(T * H * D); // [T, H*D]
    for (let hd = 0; hd < H; hd++) {
      const kv = Math.floor(hd / (H / Hkv));
      for (let t = 0; t < T; t++) {
        const s = new Float64Array(t + 1);
        for (let u = 0; u <= t; u++) {
          let dot = 0;
          for (let i = 0; i < D; i++) dot += q[(t * H + hd) * D + i]! * k[(u * Hkv + kv) * D + i]!;
          s[u] = dot / Math.sqrt(D);
        }
        const max = Math.max(...s);
        let z = 0;
        for (let u = 0; u <= t; u++) z += s[u] = Math.exp(s[u]! - max);
        for (let u = 0; u <= t; u++)
          for (let i = 0; i < D; i++) y[(t * H + hd) * D + i]! += (s[u]! / z) * v[(u * Hkv + kv) * D + i]!;
      }
    }
    const o = linear(y, T, P(`${p}.self_attn.o_proj.weight`), H * D);
    x = x.map((xi, i) => xi + o[i]!);
    const h2 = rmsNorm(x, T, C, P(`${p}.post_attention_layernorm.weight`), eps);
    const g = linear(h2, T, P(`${p}.mlp.gate_proj.weight`), C);
    const up = linear(h2, T, P(`${p}.mlp.up_proj.weight`), C);
    const a = g.map((gi, i) => (gi / (1 + Math.exp(-gi))) * up[i]!); // SwiGLU [T, I]
    const down = linear(a, T, P(`${p}.mlp.down_proj.weight`), I);
    x = x.map((xi, i) => xi + down[i]!);
  }
  const xf = rmsNorm(x, T, C, P("model.norm.weight"), eps);
  const logits = linear(xf, T, tied ? emb : P("lm_head.weight"), C);
  assert.equal(logits.length, T * V);
  return logits;
}

/** Summed log-prob of y after x: token t scored by log_softmax(logits[t-1]). */
function logp(model: ModelDir, x: number[], y: number[]): number {
  const ids = [...x, ...y];
  const V = model.config.vocab_size;
  const logits = forward(model, ids);
  let sum = 0;
  for (let t = x.length; t < ids.length; t++) {
    const row = logits.subarray((t - 1) * V, t * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, r) => s + Math.exp(r - max), 0));
    sum += row[ids[t]!]! - lse;
  }
  return sum;
}

const logSigmoid = (z: number) => -Math.log1p(Math.exp(-z));

for (const name of ["qwen2-tiny", "llama-tiny"]) {
  test(`${name}: fixtures agree with a naive float64 forward and the DESIGN.md losses`, async () => {
    const expected = JSON.parse(await readFile(`${GOLDEN}${name}/expected.json`, "utf8"));
    assert.equal(expected.format, "iopo-golden");
    assert.equal(expected.version, 1);
    assert.match(expected.generator_commit, /^[0-9a-f]{40}$/);
    const ref = await loadModelDir(`${GOLDEN}${name}/reference`);
    const pol = await loadModelDir(`${GOLDEN}${name}/policy`);
    const groups = (await readFile(`${GOLDEN}${name}/tokens.jsonl`, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));

    const logits = forward(pol, expected.logits.tokens);
    assert.deepEqual(expected.logits.shape, [expected.logits.tokens.length, pol.config.vocab_size]);
    let worst = 0;
    for (let i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i]! - expected.logits.policy[i]));
    assert.ok(worst < 1e-9, `logits max abs diff ${worst}`);

    const beta = expected.beta;
    for (const [model, report] of [
      [ref, expected.reference_vs_reference],
      [pol, expected.policy_vs_reference],
    ] as [ModelDir, Report][]) {
      let meanIopo = 0;
      let meanDpo = 0;
      groups.forEach((g, gi) => {
        const seqs = { "y1|x1": [g.x1, g.y1], "y2|x1": [g.x1, g.y2], "y2|x2": [g.x2, g.y2], "y1|x2": [g.x2, g.y1] };
        const e = report.groups[gi]!;
        const rho = {} as Lp;
        for (const key of KEYS) {
          const lp = logp(model, seqs[key][0], seqs[key][1]);
          assert.ok(
            Math.abs(lp - e.lp[key]) < 1e-9 * Math.abs(lp),
            `${name} group ${gi} ${key}: ${lp} vs ${e.lp[key]}`,
          );
          rho[key] = e.lp[key] - e.ref_lp[key];
        }
        const z =
          (2 * rho["y1|x1"] - rho["y2|x1"] - rho["y1|x2"] + (2 * rho["y2|x2"] - rho["y1|x2"] - rho["y2|x1"])) / 2;
        assert.ok(Math.abs(-logSigmoid(beta * z) - e.iopo_loss) < 1e-12);
        assert.ok(Math.abs(-logSigmoid(beta * (rho["y1|x1"] - rho["y2|x1"])) - e.dpo_loss) < 1e-12);
        meanIopo += e.iopo_loss / groups.length;
        meanDpo += e.dpo_loss / groups.length;
      });
      assert.ok(Math.abs(meanIopo - report.mean_iopo_loss) < 1e-12);
      assert.ok(Math.abs(meanDpo - report.mean_dpo_loss) < 1e-12);
      assert.deepEqual(
        Object.keys(report.grad_norms),
        model.params.table.map((r) => r.key),
      );
    }
    for (const g of expected.reference_vs_reference.groups) assert.ok(Math.abs(g.iopo_loss - Math.LN2) < 1e-12);
    assert.ok(Math.abs(expected.policy_vs_reference.mean_iopo_loss - Math.LN2) > 0.01);
    const traj = expected.trajectory;
    assert.equal(traj.iopo.losses.length, 10);
    assert.ok(Math.abs(traj.iopo.losses[0] - expected.policy_vs_reference.mean_iopo_loss) < 1e-12);
    assert.ok(Math.abs(traj.dpo.losses[0] - expected.policy_vs_reference.mean_dpo_loss) < 1e-12);
    assert.ok(traj.iopo.loss_after < traj.iopo.losses[0] && traj.dpo.loss_after < traj.dpo.losses[0]);
  });
}
