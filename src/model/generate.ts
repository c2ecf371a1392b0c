// Text generation from a model: greedy or temperature/top-p sampling with a seed, stop strings, EOS and a token
// limit, on a KV cache — a decode graph that takes one token and the per-layer key/value caches (a fixed-size
// buffer of S slots, written by a one-hot mask, since the engine's Concat needs static sizes) — or on repeated full
// forward passes (`cache: false`, the reference the cached path is tested against). Exposed as a ChatProvider.

import { basename } from "node:path";
import * as E from "../engine/index.ts";
import { ConfigError } from "../errors.ts";
import type { CallOptions, ChatMessage, ChatProvider, ChatResult } from "../llm/index.ts";
import { type ModelConfig, modelDims } from "./config.ts";
import { loadModelDir, type ModelDir } from "./hfdir.ts";
import { makeRng } from "./init.ts";
import { batchFeeds, forward, llamaInputs, type ParamNodes, paramFeeds, paramInputs, ropeTables } from "./llama.ts";
import { paramTable } from "./params.ts";
import { loadTokenizer, type ModelTokenizer } from "./tokenizer.ts";

// ---- types ----

export interface GenerateOptions {
  /** Upper bound on new tokens. @default 256 */
  readonly maxTokens?: number;
  /** 0 = greedy. @default 0 */
  readonly temperature?: number;
  /** Nucleus sampling mass (with temperature > 0). @default 1 */
  readonly topP?: number;
  /** Sampling seed. @default 0 */
  readonly seed?: number;
  /** Token ids that end generation (default: the model's EOS). */
  readonly stopIds?: readonly number[];
  /** Decoded text is cut at the first of these, which ends generation. */
  readonly stop?: readonly string[];
  /** Decode text for stop strings (needed when `stop` is given). */
  readonly decode?: (ids: readonly number[]) => string;
}

export interface Generation {
  readonly ids: number[];
  readonly text?: string;
  readonly finish: "stop" | "length";
}

// ---- helpers ----

const NEG = -1e9;

/** [1, 1, n*D] → [1, n, 1, D] */
const heads = (x: E.Node, n: number, D: number): E.Node => E.transpose(E.reshape(x, [1, 1, n, D]), [0, 2, 1, 3]);

/** [1, Hkv, S, D] → [1, H, S, D] (grouped-query attention). */
function repeatKv(x: E.Node, H: number, Hkv: number, D: number): E.Node {
  if (H === Hkv) return x;
  const S = x.shape[2]!;
  return E.reshape(E.expand(E.reshape(x, [1, Hkv, 1, S, D]), [1, Hkv, H / Hkv, S, D]), [1, H, S, D]);
}

/** The decode step graph: one token in, logits [1, 1, V] and the updated caches out. */
function decodeGraph(cfg: ModelConfig) {
  const m = modelDims(cfg);
  const { H, Hkv, D } = m;
  return E.trace(() => {
    const p: ParamNodes = paramInputs(paramTable(cfg));
    const w = (k: string) => p.get(k)!;
    const ids = E.input("input_ids", [1, 1], "int64");
    const cos = E.input("rope_cos", [1, D]); // position p's row
    const sin = E.input("rope_sin", [1, D]);
    const slot = E.input("slot", ["S", 1]); // one-hot of p over the cache slots
    const bias = E.input("attn_bias", [1, 1, 1, "S"]); // 0 for slots ≤ p, −1e9 after
    const outs: Record<string, E.Node> = {};
    let x = E.gather(w("model.embed_tokens.weight"), ids); // [1, 1, C]
    for (let i = 0; i < m.L; i++) {
      const pre = `model.layers.${i}`;
      const lin = (name: string, h: E.Node, n: number) =>
        heads(
          E.linear(h, w(`${pre}.self_attn.${name}.weight`), m.qkvBias ? w(`${pre}.self_attn.${name}.bias`) : undefined),
          n,
          D,
        );
      const h = E.rmsNorm(x, w(`${pre}.input_layernorm.weight`), m.eps); // [1, 1, C]
      const q = E.rope(lin("q_proj", h, H), cos, sin); // [1, H, 1, D]
      const k = E.rope(lin("k_proj", h, Hkv), cos, sin); // [1, Hkv, 1, D]
      const v = lin("v_proj", h, Hkv); // [1, Hkv, 1, D]
      const kc = E.add(E.input(`past_k.${i}`, [1, Hkv, "S", D]), E.mul(k, slot)); // [1, Hkv, S, D]
      const vc = E.add(E.input(`past_v.${i}`, [1, Hkv, "S", D]), E.mul(v, slot)); // [1, Hkv, S, D]
      outs[`present_k.${i}`] = kc;
      outs[`present_v.${i}`] = vc;
      const scores = E.add(E.matmul(E.mul(q, 1 / Math.sqrt(D)), E.transposeLast(repeatKv(kc, H, Hkv, D))), bias); // [1, H, 1, S]
      const y = E.matmul(E.softmax(scores, -1), repeatKv(vc, H, Hkv, D)); // [1, H, 1, D]
      const merged = E.reshape(E.transpose(y, [0, 2, 1, 3]), [1, 1, H * D]); // [1, 1, H*D]
      x = E.add(
        x,
        E.linear(merged, w(`${pre}.self_attn.o_proj.weight`), m.oBias ? w(`${pre}.self_attn.o_proj.bias`) : undefined),
      ); // [1, 1, C]
      const h2 = E.rmsNorm(x, w(`${pre}.post_attention_layernorm.weight`), m.eps); // [1, 1, C]
      const gate = E.linear(h2, w(`${pre}.mlp.gate_proj.weight`)); // [1, 1, I]
      const up = E.linear(h2, w(`${pre}.mlp.up_proj.weight`)); // [1, 1, I]
      x = E.add(x, E.linear(E.mul(E.silu(gate), up), w(`${pre}.mlp.down_proj.weight`))); // [1, 1, C]
    }
    const head = m.tied ? w("model.embed_tokens.weight") : w("lm_head.weight"); // [V, C]
    outs.logits = E.linear(E.rmsNorm(x, w("model.norm.weight"), m.eps), head); // [1, 1, V]
    return outs;
  });
}

/** Next token from logits: argmax, or temperature + top-p sampling. */
function pick(logits: Float32Array, o: GenerateOptions, rand: () => number): number {
  const t = o.temperature ?? 0;
  if (t <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const probs = Array.from(logits, (v, i) => ({ i, p: Math.exp((v - max) / t) }));
  const z = probs.reduce((a, b) => a + b.p, 0);
  probs.sort((a, b) => b.p - a.p || a.i - b.i);
  // Nucleus: the smallest prefix whose mass reaches top_p.
  const topP = o.topP ?? 1;
  let mass = 0;
  let n = 0;
  while (n < probs.length && (n === 0 || mass < topP * z)) mass += probs[n++]!.p;
  let r = rand() * mass;
  for (let j = 0; j < n; j++) if ((r -= probs[j]!.p) <= 0) return probs[j]!.i;
  return probs[n - 1]!.i;
}

// ---- exports ----

/** A loaded model ready to generate: the decode program (KV cache) and the full-forward program. */
export class Generator {
  private constructor(
    readonly cfg: ModelConfig,
    private readonly params: Record<string, E.Feed>,
    private readonly decode: E.Program,
    private readonly full: E.Program,
  ) {}

  static async create(model: Pick<ModelDir, "config" | "params">, threads?: number): Promise<Generator> {
    const cfg = model.config;
    const opts = { spin: false, ...(threads ? { threads } : {}) };
    const dec = decodeGraph(cfg);
    const decode = await E.Program.create(E.toOnnx(dec.graph, dec.result, "decode"), opts);
    const fwd = E.trace(() => {
      const { params, batch } = llamaInputs(cfg);
      return forward(cfg, params, batch); // [B, T, V]
    });
    const full = await E.Program.create(E.toOnnx(fwd.graph, { logits: fwd.result }, "forward"), opts);
    return new Generator(cfg, paramFeeds(model.params.table, model.params.tensors), decode, full);
  }

  /** Logits [V] of the last position by a full forward pass over `ids`. */
  async lastLogits(ids: readonly number[]): Promise<Float32Array> {
    const out = (await this.full.run({ ...batchFeeds(this.cfg, [{ prompt: ids, response: [] }]), ...this.params }))
      .logits as Float32Array;
    const V = modelDims(this.cfg).V;
    return out.slice((ids.length - 1) * V, ids.length * V);
  }

  /** Continue `prompt` (token ids). `cache: false` recomputes the whole sequence for every token. */
  async generate(prompt: readonly number[], o: GenerateOptions = {}, cache = true): Promise<Generation> {
    if (prompt.length === 0)
      throw new ConfigError("cannot generate from an empty prompt", { expected: "at least one token" });
    const maxTokens = o.maxTokens ?? 256;
    const eos = this.cfg.eos_token_id;
    const stopIds = new Set(o.stopIds ?? (Array.isArray(eos) ? eos : eos === undefined || eos === null ? [] : [eos]));
    const rand = makeRng(o.seed ?? 0);
    const m = modelDims(this.cfg);
    const S = prompt.length + maxTokens;
    const { cos, sin } = ropeTables(S, m.D, this.cfg.rope_theta);
    const kv: Record<string, E.Feed> = {};
    for (let i = 0; i < m.L; i++)
      for (const n of ["k", "v"])
        kv[`past_${n}.${i}`] = { data: new Float32Array(m.Hkv * S * m.D), dims: [1, m.Hkv, S, m.D] };
    let pos = 0;
    // Feed one token at position `pos` through the decode graph; returns its logits and keeps the caches.
    const step = async (id: number): Promise<Float32Array> => {
      const slot = new Float32Array(S);
      slot[pos] = 1;
      const bias = new Float32Array(S).fill(NEG).fill(0, 0, pos + 1);
      const out = await this.decode.run({
        input_ids: { data: BigInt64Array.of(BigInt(id)), dims: [1, 1] },
        rope_cos: { data: cos.subarray(pos * m.D, (pos + 1) * m.D), dims: [1, m.D] },
        rope_sin: { data: sin.subarray(pos * m.D, (pos + 1) * m.D), dims: [1, m.D] },
        slot: { data: slot, dims: [S, 1] },
        attn_bias: { data: bias, dims: [1, 1, 1, S] },
        ...kv,
        ...this.params,
      });
      for (let i = 0; i < m.L; i++)
        for (const n of ["k", "v"])
          kv[`past_${n}.${i}`] = { data: out[`present_${n}.${i}`] as Float32Array, dims: [1, m.Hkv, S, m.D] };
      pos += 1;
      return out.logits as Float32Array;
    };
    const ids = [...prompt];
    let logits: Float32Array = new Float32Array(0);
    if (cache) for (const id of prompt) logits = await step(id);
    const out: number[] = [];
    for (let t = 0; t < maxTokens; t++) {
      if (!cache) logits = await this.lastLogits(ids);
      const next = pick(logits, o, rand);
      if (stopIds.has(next)) return { ids: out, ...(o.decode ? { text: o.decode(out) } : {}), finish: "stop" };
      out.push(next);
      ids.push(next);
      if (o.stop?.length && o.decode) {
        const text = o.decode(out);
        const hit = o.stop.map((s) => text.indexOf(s)).filter((i) => i >= 0);
        if (hit.length) return { ids: out, text: text.slice(0, Math.min(...hit)), finish: "stop" };
      }
      if (cache && t + 1 < maxTokens) logits = await step(next);
    }
    return { ids: out, ...(o.decode ? { text: o.decode(out) } : {}), finish: "length" };
  }

  async release(): Promise<void> {
    await this.decode.release();
    await this.full.release();
  }
}

/** The in-process model as a ChatProvider (kind "model"): chat template, generation, decoded text and usage. */
export class ModelProvider implements ChatProvider {
  readonly kind = "model";
  private constructor(
    readonly model: string,
    private readonly tok: ModelTokenizer,
    private readonly gen: Generator,
  ) {}

  /** Load a model directory (e.g. a checkpoint written by `iopo train`). */
  static async open(dir: string, threads?: number): Promise<ModelProvider> {
    const [model, tok] = await Promise.all([loadModelDir(dir), loadTokenizer(dir)]);
    return new ModelProvider(basename(dir), tok, await Generator.create(model, threads));
  }

  async chat(messages: readonly ChatMessage[], options: CallOptions = {}): Promise<ChatResult> {
    const prompt = this.tok.encodeChat(messages, { addGenerationPrompt: true });
    const eos = this.tok.specialId("eos");
    const g = await this.gen.generate(prompt, {
      maxTokens: options.max_tokens,
      temperature: options.temperature,
      topP: options.top_p,
      seed: options.seed,
      stop: options.stop,
      ...(eos !== null ? { stopIds: [eos] } : {}),
      decode: (ids) => this.tok.decode(ids, { skipSpecialTokens: true }),
    });
    return {
      text: g.text ?? "",
      usage: { prompt_tokens: prompt.length, completion_tokens: g.ids.length },
      finish: g.finish,
    };
  }

  close(): Promise<void> {
    return this.gen.release();
  }
}
