// The tokenizer as GGUF metadata for llama.cpp's "gpt2" (byte-level BPE) vocabulary: tokens padded to the model's
// vocab_size, token types, merges, special token ids, add-bos/eos flags, the pre-tokenizer name llama.cpp knows for
// the tokenizer's split pattern, and the chat template. Refuses tokenizers llama.cpp would tokenize differently.
// Reads the parsed tokenizer.json / tokenizer_config.json / config.json; does no file I/O.

import { ConfigError } from "../errors.ts";
import { type ModelConfig, QWEN2_SPLIT_PATTERN } from "../model/index.ts";
import type { GgufValue } from "./gguf-file.ts";

// ---- types ----

/** llama.cpp's llama_token_type values. */
const TOKEN_TYPE = { normal: 1, control: 3, userDefined: 4, unused: 5 } as const;

interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special?: boolean;
}

// ---- helpers ----

/** The Llama-3 split (digits in runs of up to three), which llama.cpp calls "llama-bpe". */
const LLAMA3_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** tokenizer.ggml.pre names by the exact Split regex of tokenizer.json (llama.cpp hard-codes each regex). */
const PRE_BY_PATTERN: Record<string, string> = {
  [QWEN2_SPLIT_PATTERN]: "qwen2",
  [LLAMA3_SPLIT_PATTERN]: "llama-bpe",
};

/** Whether llama.cpp looks a whole pre-token up in the vocabulary before merging (BPE `ignore_merges`), per name. */
const IGNORES_MERGES: Record<string, boolean> = { qwen2: false, "llama-bpe": true, "gpt-2": false };

const PATH = "tokenizer.json";
const fail = (message: string, field: string, expected: string, got: string) =>
  new ConfigError(message, {
    path: PATH,
    field,
    expected,
    got,
    hint: "GGUF export supports byte-level BPE tokenizers with the Qwen2 or Llama-3 split (as `iopo init-model` writes)",
  });

/**
 * The pre-tokenizer name: a Split with a known regex followed by ByteLevel without its own regex (or a plain
 * ByteLevel), and the BPE model's `ignore_merges` as llama.cpp assumes it for that name.
 */
function preTokenizerName(json: Record<string, unknown>): string {
  const name = preTokenizerOf(json);
  const ignores = (json.model as { ignore_merges?: unknown } | undefined)?.ignore_merges === true;
  if (ignores !== IGNORES_MERGES[name])
    throw fail(
      `BPE ignore_merges differs from llama.cpp's "${name}" tokenizer`,
      "model.ignore_merges",
      String(IGNORES_MERGES[name]),
      String(ignores),
    );
  return name;
}

function preTokenizerOf(json: Record<string, unknown>): string {
  const pre = json.pre_tokenizer as { type?: string; pretokenizers?: Record<string, unknown>[] } | null | undefined;
  const steps = pre?.type === "Sequence" ? (pre.pretokenizers ?? []) : pre ? [pre as Record<string, unknown>] : [];
  const split = steps.find((s) => s.type === "Split");
  const pattern = (split?.pattern as { Regex?: string } | undefined)?.Regex;
  const byteLevel = steps.find((s) => s.type === "ByteLevel");
  if (!split && byteLevel?.use_regex !== false && steps.length === 1) return "gpt-2";
  const name = pattern === undefined ? undefined : PRE_BY_PATTERN[pattern];
  if (!name || !byteLevel || byteLevel.use_regex !== false)
    throw fail(
      "pre-tokenizer has no llama.cpp equivalent",
      "pre_tokenizer",
      "Sequence[Split(Qwen2 or Llama-3 regex), ByteLevel(use_regex: false)] or a plain ByteLevel",
      JSON.stringify(pre ?? null).slice(0, 200),
    );
  return name;
}

/** An id from tokenizer_config.json's `<which>_token` string, else config.json's `<which>_token_id`. */
function specialId(
  which: "bos" | "eos" | "pad",
  tokConfig: Record<string, unknown>,
  config: ModelConfig,
  idOf: (text: string) => number | undefined,
): number | undefined {
  const entry = tokConfig[`${which}_token`];
  const text =
    typeof entry === "string"
      ? entry
      : typeof (entry as { content?: unknown } | null)?.content === "string"
        ? (entry as { content: string }).content
        : undefined;
  const fromText = text === undefined ? undefined : idOf(text);
  if (fromText !== undefined) return fromText;
  const raw = config[`${which}_token_id`];
  const id = Array.isArray(raw) ? raw[0] : raw;
  return typeof id === "number" ? id : undefined;
}

/**
 * Whether encoding adds BOS: tokenizer_config.json's add_bos_token when set, else whether the post-processor's
 * single-sequence template starts with a special token (Llama-3 style tokenizers say it only there).
 */
function addsBos(json: Record<string, unknown>, tokConfig: Record<string, unknown>): boolean {
  if (typeof tokConfig.add_bos_token === "boolean") return tokConfig.add_bos_token;
  const post = json.post_processor as { type?: string; single?: { SpecialToken?: unknown }[] } | null | undefined;
  return post?.type === "TemplateProcessing" && post.single?.[0]?.SpecialToken !== undefined;
}

/** The chat template string (a named list picks "default", as transformers does). */
function chatTemplate(tokConfig: Record<string, unknown>): string | undefined {
  const t = tokConfig.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const list = t as { name?: string; template?: string }[];
    return (list.find((x) => x.name === "default") ?? list[0])?.template;
  }
  return undefined;
}

// ---- exports ----

/** The `tokenizer.*` metadata entries for a model's tokenizer files and config. */
export function tokenizerMetadata(
  tokenizerJson: unknown,
  tokenizerConfig: unknown,
  config: ModelConfig,
): Map<string, GgufValue> {
  const json = (tokenizerJson ?? {}) as Record<string, unknown>;
  const model = (json.model ?? {}) as { type?: string; vocab?: Record<string, number>; merges?: unknown[] };
  if (model.type !== "BPE" || !model.vocab || typeof model.vocab !== "object")
    throw fail("tokenizer model is not BPE", "model.type", '"BPE" with a vocab object', String(model.type));
  const pre = preTokenizerName(json);
  const V = config.vocab_size;
  const tokens: string[] = new Array(V);
  const types: number[] = new Array(V).fill(TOKEN_TYPE.unused);
  const place = (id: number, text: string, type: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= V)
      throw new ConfigError("tokenizer is larger than the model's vocabulary", {
        path: PATH,
        field: text,
        expected: `token ids below config.json vocab_size ${V}`,
        got: `id ${id}`,
        hint: "the tokenizer does not belong to this model; export the directory the model was trained with",
      });
    tokens[id] = text;
    types[id] = type;
  };
  for (const [text, id] of Object.entries(model.vocab)) place(id, text, TOKEN_TYPE.normal);
  for (const t of (json.added_tokens ?? []) as AddedToken[])
    place(t.id, t.content, t.special === false ? TOKEN_TYPE.userDefined : TOKEN_TYPE.control);
  for (let i = 0; i < V; i++) if (tokens[i] === undefined) tokens[i] = `[PAD${i}]`; // llama.cpp's filler name
  const merges = (model.merges ?? []).map((m) => (Array.isArray(m) ? m.join(" ") : String(m)));
  const idOf = (text: string) => {
    const i = tokens.indexOf(text);
    return i < 0 ? undefined : i;
  };
  const tokConfig = (tokenizerConfig ?? {}) as Record<string, unknown>;
  const out = new Map<string, GgufValue>([
    ["tokenizer.ggml.model", { kind: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { kind: "string", value: pre }],
    ["tokenizer.ggml.tokens", { kind: "array", of: "string", value: tokens }],
    ["tokenizer.ggml.token_type", { kind: "array", of: "i32", value: types }],
    ["tokenizer.ggml.merges", { kind: "array", of: "string", value: merges }],
  ]);
  const keys = { bos: "bos_token_id", eos: "eos_token_id", pad: "padding_token_id" } as const;
  for (const which of ["bos", "eos", "pad"] as const) {
    const id = specialId(which, tokConfig, config, idOf);
    if (id !== undefined && id < V) out.set(`tokenizer.ggml.${keys[which]}`, { kind: "u32", value: id });
  }
  out.set("tokenizer.ggml.add_bos_token", { kind: "bool", value: addsBos(json, tokConfig) });
  out.set("tokenizer.ggml.add_eos_token", { kind: "bool", value: tokConfig.add_eos_token === true });
  const template = chatTemplate(tokConfig);
  if (template !== undefined) out.set("tokenizer.chat_template", { kind: "string", value: template });
  return out;
}
