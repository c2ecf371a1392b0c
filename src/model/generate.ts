// Text generation: greedy or temperature/top-p sampling with a seed, stop strings, EOS and a token limit, on a KV
// cache built from llama.ts's `decoder` (the trainer's block; per-layer caches of S slots written through a one-hot
// placement, since the engine's shapes are static per run): the prompts prefilled in one pass, then one step per
// token — or on repeated full forward passes (`cache: false`, the reference). Exposed as a ChatProvider.

import { basename } from "node:path";
import * as E from "../engine/index.ts";
import { ConfigError } from "../errors.ts";
import type { CallOptions, ChatMessage, ChatProvider, ChatResult } from "../llm/index.ts";
import { checkSequenceLength, type ModelConfig, type ModelDims, modelDims } from "./config.ts";
import { loadModelDir, type ModelDir } from "./hfdir.ts";
import {
  batchFeeds,
  decoder,
  forward,
  llamaInputs,
  lmHead,
  type ParamNodes,
  paramFeeds,
  paramInputs,
} from "./llama.ts";
import { paramTable } from "./params.ts";
import { ropeTables } from "./rope.ts";
import { Decoding } from "./sampling.ts";
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
  /**
   * How the prompt enters the KV cache: "batch" = one pass over the whole prompt (all prompts of a batch
   * together); "tokens" = one decode-sized call per prompt position (the earlier way, kept for comparison).
   * @default "batch"
   */
  readonly prefill?: "batch" | "tokens";
}

export interface Generation {
  readonly ids: number[];
  readonly text?: string;
  readonly finish: "stop" | "length";
}

// ---- helpers ----

const NEG = -1e9;

/**
 * The cached step graph: B rows of T new tokens each, written into S cache slots per layer, through the same
 * `decoder` the trainer runs; logits [B, 1, V] of one chosen position per row (`last`), and the updated caches.
 * Prefill is T = prompt length (or 1 per call, token by token); decoding is T = 1.
 */
function stepGraph(cfg: ModelConfig) {
  const m = modelDims(cfg);
  return E.trace(() => {
    const p: ParamNodes = paramInputs(paramTable(cfg));
    const ids = E.input("input_ids", ["B", "T"], "int64");
    const a = {
      cos: E.input("rope_cos", ["B", 1, "T", m.D]), // each row's own positions
      sin: E.input("rope_sin", ["B", 1, "T", m.D]),
      bias: E.input("attn_bias", ["B", 1, "T", "S"]), // 0 for slots ≤ the query's position, −1e9 after
    };
    const cache = {
      place: E.input("kv_place", ["B", 1, "S", "T"]),
      past: (i: number) => ({
        k: E.input(`past_k.${i}`, ["B", m.Hkv, "S", m.D]),
        v: E.input(`past_v.${i}`, ["B", m.Hkv, "S", m.D]),
      }),
    };
    const { h, present } = decoder(cfg, p, ids, a, cache); // h: [B, T, C]
    const last = E.input("last", ["B", 1], "int64"); // the position whose next token is wanted
    const idx = E.expand(E.reshape(last, ["B", 1, 1]), ["B", 1, m.C]); // [B, 1, C]
    return { ...present, logits: lmHead(m, p, E.gatherElements(h, idx, 1)) }; // logits: [B, 1, V]
  });
}

/** A KV cache in use: B rows of S slots per layer (fed back each call) and the RoPE tables of 0..S-1. */
interface Cache {
  readonly B: number;
  readonly S: number;
  readonly kv: Record<string, E.Feed>;
  readonly cos: Float32Array; // [S, D]
  readonly sin: Float32Array; // [S, D]
}

/** Per row: `n` new tokens at positions start..start+n-1, of which the first `valid` are real (rest padding). */
interface StepRows {
  readonly tokens: readonly (readonly number[])[]; // [B][n]
  readonly start: readonly number[];
  readonly valid: readonly number[];
}

// ---- exports ----

/** A loaded model ready to generate: the cached step program (KV cache) and the full-forward program. */
export class Generator {
  private readonly dims: ModelDims;
  private constructor(
    readonly cfg: ModelConfig,
    private readonly params: Record<string, E.Feed>,
    private readonly step: E.Program,
    private readonly full: E.Program,
  ) {
    this.dims = modelDims(cfg);
  }

  static async create(model: Pick<ModelDir, "config" | "params">, threads?: number): Promise<Generator> {
    const cfg = model.config;
    const opts = { spin: false, ...(threads ? { threads } : {}) };
    const st = stepGraph(cfg);
    const step = await E.Program.create(E.toOnnx(st.graph, st.result, "step"), opts);
    const fwd = E.trace(() => {
      const { params, batch } = llamaInputs(cfg);
      return forward(cfg, params, batch); // [B, T, V]
    });
    const full = await E.Program.create(E.toOnnx(fwd.graph, { logits: fwd.result }, "forward"), opts);
    return new Generator(cfg, paramFeeds(model.params.table, model.params.tensors), step, full);
  }

  /** Logits [V] of the last position by a full forward pass over `ids`. */
  async lastLogits(ids: readonly number[]): Promise<Float32Array> {
    const out = (await this.full.run({ ...batchFeeds(this.cfg, [{ prompt: ids, response: [] }]), ...this.params }))
      .logits as Float32Array;
    const V = this.dims.V;
    return out.slice((ids.length - 1) * V, ids.length * V);
  }

  /** Continue `prompt` (token ids). `cache: false` recomputes the whole sequence for every token. */
  async generate(prompt: readonly number[], o: GenerateOptions = {}, cache = true): Promise<Generation> {
    if (!cache) return this.generateUncached(prompt, o);
    return (await this.generateBatch([prompt], o))[0]!;
  }

  /**
   * Continue several prompts together on the KV cache: one prefill pass over all prompts (right-padded), then
   * one decode step per new token for all rows. Each row samples from its own seeded stream, so a row's tokens
   * are those of generating its prompt alone.
   */
  async generateBatch(prompts: readonly (readonly number[])[], o: GenerateOptions = {}): Promise<Generation[]> {
    for (const prompt of prompts)
      if (prompt.length === 0)
        throw new ConfigError("cannot generate from an empty prompt", { expected: "at least one token" });
    const maxTokens = o.maxTokens ?? 256;
    const longest = Math.max(...prompts.map((q) => q.length));
    const cache = this.openCache(prompts.length, longest + maxTokens);
    const logits = await this.prefill(cache, prompts, o.prefill ?? "batch");
    const rows = prompts.map((_, b) => new Decoding(o, this.stopIds(o), logits[b]!));
    for (let t = 0; t < maxTokens && rows.some((r) => !r.done); t++) {
      const next = rows.map((r) => r.pick(t + 1 === maxTokens));
      if (rows.every((r) => r.done)) break;
      const out = await this.run(cache, {
        tokens: next.map((id) => [id]),
        start: prompts.map((q) => q.length + t),
        valid: prompts.map(() => 1),
      });
      for (const [b, r] of rows.entries()) r.feed(out[b]!);
    }
    return rows.map((r) => r.result());
  }

  /** Each prompt's next-token logits [V] after prefilling it into a fresh cache ("batch" or "tokens"). */
  async promptLogits(prompts: readonly (readonly number[])[], how: "batch" | "tokens"): Promise<Float32Array[]> {
    const cache = this.openCache(prompts.length, Math.max(...prompts.map((q) => q.length)));
    return (await this.prefill(cache, prompts, how)).map((l) => Float32Array.from(l));
  }

  async release(): Promise<void> {
    await this.step.release();
    await this.full.release();
  }

  // ---- private ----

  private stopIds(o: GenerateOptions): Set<number> {
    const eos = this.cfg.eos_token_id;
    return new Set(o.stopIds ?? (Array.isArray(eos) ? eos : eos === undefined || eos === null ? [] : [eos]));
  }

  /** Zeroed caches of S slots for B rows and the RoPE tables of positions 0..S-1. */
  private openCache(B: number, S: number): Cache {
    checkSequenceLength(this.cfg, S, "the longest prompt + max tokens");
    const m = this.dims;
    const kv: Record<string, E.Feed> = {};
    for (let i = 0; i < m.L; i++)
      for (const n of ["k", "v"])
        kv[`past_${n}.${i}`] = { data: new Float32Array(B * m.Hkv * S * m.D), dims: [B, m.Hkv, S, m.D] };
    return { B, S, kv, ...ropeTables(this.cfg, S) };
  }

  /**
   * Fill the caches with the prompts; returns each row's logits after its last prompt token. "batch": one pass
   * for all prompts together when right-padding them wastes little (≤ 25% extra positions), else one pass per
   * prompt into its row (measured: batching short prompts is 2–3× faster, padding a long batch costs its waste).
   */
  private async prefill(c: Cache, prompts: readonly (readonly number[])[], how: "batch" | "tokens") {
    const lens = prompts.map((q) => q.length);
    const n = Math.max(...lens);
    if (how === "batch" && c.B * n <= 1.25 * lens.reduce((a, b) => a + b, 0)) {
      const tokens = prompts.map((q) => Array.from({ length: n }, (_, t) => q[t] ?? 0));
      return this.run(c, { tokens, start: lens.map(() => 0), valid: lens });
    }
    if (how === "batch") {
      const logits: Float32Array[] = [];
      for (const [b, q] of prompts.entries()) logits.push(await this.prefillRow(c, b, q));
      return logits;
    }
    const logits: Float32Array[] = [];
    for (let t = 0; t < Math.max(...lens); t++) {
      const out = await this.run(c, {
        tokens: prompts.map((q) => [q[t] ?? 0]),
        start: lens.map(() => t),
        valid: lens.map((len) => (t < len ? 1 : 0)),
      });
      for (const [b, len] of lens.entries()) if (t === len - 1) logits[b] = out[b]!;
    }
    return logits;
  }

  /** One pass over one prompt into row b of the caches (a one-row view, copied back). */
  private async prefillRow(c: Cache, b: number, prompt: readonly number[]): Promise<Float32Array> {
    const m = this.dims;
    const size = m.Hkv * c.S * m.D; // one row of one layer's cache
    const view: Cache = { ...c, B: 1, kv: {} };
    for (const [k, f] of Object.entries(c.kv))
      view.kv[k] = { data: (f.data as Float32Array).slice(b * size, (b + 1) * size), dims: [1, m.Hkv, c.S, m.D] };
    const [logits] = await this.run(view, { tokens: [prompt], start: [0], valid: [prompt.length] });
    for (const [k, f] of Object.entries(c.kv)) (f.data as Float32Array).set(view.kv[k]!.data as Float32Array, b * size);
    return logits!;
  }

  /** One step-program call: write the rows' new tokens into the caches; logits [V] of each row's last valid token. */
  private async run(c: Cache, r: StepRows): Promise<Float32Array[]> {
    const m = this.dims;
    const { B, S } = c;
    const n = r.tokens[0]!.length;
    const ids = new BigInt64Array(B * n);
    const cos = new Float32Array(B * n * m.D);
    const sin = new Float32Array(B * n * m.D);
    const bias = new Float32Array(B * n * S).fill(NEG);
    const place = new Float32Array(B * S * n);
    const last = new BigInt64Array(B);
    for (let b = 0; b < B; b++) {
      last[b] = BigInt(Math.max(0, r.valid[b]! - 1));
      for (let t = 0; t < n; t++) {
        const pos = r.start[b]! + t;
        ids[b * n + t] = BigInt(r.tokens[b]![t]!);
        cos.set(c.cos.subarray(pos * m.D, (pos + 1) * m.D), (b * n + t) * m.D);
        sin.set(c.sin.subarray(pos * m.D, (pos + 1) * m.D), (b * n + t) * m.D);
        bias.fill(0, (b * n + t) * S, (b * n + t) * S + pos + 1); // slots 0..pos are visible
        if (t < r.valid[b]!) place[(b * S + pos) * n + t] = 1; // padding is never written
      }
    }
    const out = await this.step.run({
      input_ids: { data: ids, dims: [B, n] },
      rope_cos: { data: cos, dims: [B, 1, n, m.D] },
      rope_sin: { data: sin, dims: [B, 1, n, m.D] },
      attn_bias: { data: bias, dims: [B, 1, n, S] },
      kv_place: { data: place, dims: [B, 1, S, n] },
      last: { data: last, dims: [B, 1] },
      ...c.kv,
      ...this.params,
    });
    for (let i = 0; i < m.L; i++)
      for (const k of ["k", "v"])
        c.kv[`past_${k}.${i}`] = { data: out[`present_${k}.${i}`] as Float32Array, dims: [B, m.Hkv, S, m.D] };
    const logits = out.logits as Float32Array;
    return Array.from({ length: B }, (_, b) => logits.subarray(b * m.V, (b + 1) * m.V));
  }

  /** The reference path: a full forward pass over the whole sequence for every new token. */
  private async generateUncached(prompt: readonly number[], o: GenerateOptions): Promise<Generation> {
    if (prompt.length === 0)
      throw new ConfigError("cannot generate from an empty prompt", { expected: "at least one token" });
    const maxTokens = o.maxTokens ?? 256;
    const ids = [...prompt];
    const row = new Decoding(o, this.stopIds(o), await this.lastLogits(ids));
    for (let t = 0; t < maxTokens; t++) {
      const next = row.pick(t + 1 === maxTokens);
      if (row.done) break;
      ids.push(next);
      row.feed(await this.lastLogits(ids));
    }
    return row.result();
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
    return (await this.chatMany([messages], options))[0]!;
  }

  /**
   * Several conversations with the same options, generated together (one prefill pass where padding allows, one
   * decode step per token for all); each result equals `chat` of that conversation alone.
   */
  async chatMany(conversations: readonly (readonly ChatMessage[])[], options: CallOptions = {}): Promise<ChatResult[]> {
    const prompts = conversations.map((m) => this.tok.encodeChat(m, { addGenerationPrompt: true }));
    const eos = this.tok.specialId("eos");
    const gens = await this.gen.generateBatch(prompts, {
      maxTokens: options.max_tokens,
      temperature: options.temperature,
      topP: options.top_p,
      seed: options.seed,
      stop: options.stop,
      ...(eos !== null ? { stopIds: [eos] } : {}),
      decode: (ids) => this.tok.decode(ids, { skipSpecialTokens: true }),
    });
    return gens.map((g, i) => ({
      text: g.text ?? "",
      usage: { prompt_tokens: prompts[i]!.length, completion_tokens: g.ids.length },
      finish: g.finish,
    }));
  }

  close(): Promise<void> {
    return this.gen.release();
  }
}
