// Tokenization through a real `tokenizer.json` (the @huggingface/tokenizers library: BPE incl. byte-level, WordPiece,
// Unigram, and WordLevel through its plain vocab model) and chat templates through @huggingface/jinja, rendered
// the way transformers renders them. Does not train tokenizers (see bpe.ts) or read model weights.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { CheckpointError, ConfigError } from "../errors.ts";

// ---- types ----

/** One chat message; `role` is usually system | user | assistant. */
export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

export interface ChatTemplateOptions {
  /** Append the opening of an assistant turn so the model continues as the assistant. @default false */
  readonly addGenerationPrompt?: boolean;
}

/** The fields of `tokenizer_config.json` this module reads; the rest is passed to the library untouched. */
export type TokenizerConfig = Record<string, unknown> & {
  chat_template?: string | { name: string; template: string }[] | null;
  bos_token?: unknown;
  eos_token?: unknown;
  pad_token?: unknown;
  unk_token?: unknown;
};

// ---- helpers ----

/**
 * The documented fallback layout for a model whose tokenizer_config.json has no `chat_template`:
 *   "### System:\n{content}\n\n### User:\n{content}\n\n### Assistant:\n{content}\n\n" …
 * and, with a generation prompt, a final "### Assistant:\n". Roles are capitalised; no special tokens.
 */
export const PLAIN_CHAT_TEMPLATE =
  "{%- for message in messages %}{{- '### ' + (message.role | capitalize) + ':\\n' + message.content + '\\n\\n' }}" +
  "{%- endfor %}{%- if add_generation_prompt %}{{- '### Assistant:\\n' }}{%- endif %}";

/** A ChatML template (the Qwen2.5 layout without its default system prompt), used by `iopo init-model`. */
export const CHATML_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}" +
  "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** A special-token entry of tokenizer_config.json is a string, null, or an AddedToken object {content}. */
function tokenText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string")
    return (value as { content: string }).content;
  return null;
}

function pickTemplate(value: TokenizerConfig["chat_template"]): string | null {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.find((t) => t.name === "default")?.template ?? value[0]?.template ?? null;
  return null;
}

// ---- exports ----

/** A tokenizer plus its special tokens and chat template, as one model directory defines them. */
export class ModelTokenizer {
  readonly config: TokenizerConfig;
  /** The jinja chat template, or null when the config has none (then PLAIN_CHAT_TEMPLATE is used). */
  readonly chatTemplate: string | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  private readonly tok: Tokenizer;
  private template: Template | undefined;

  constructor(tokenizerJson: object, config: TokenizerConfig = {}) {
    this.config = config;
    this.chatTemplate = pickTemplate(config.chat_template);
    this.bosToken = tokenText(config.bos_token);
    this.eosToken = tokenText(config.eos_token);
    this.padToken = tokenText(config.pad_token);
    try {
      // Byte-level BPE must not "clean up" spaces on decode; transformers' own default is false for such models.
      this.tok = new Tokenizer(tokenizerJson, { clean_up_tokenization_spaces: false, ...config });
    } catch (err) {
      throw new CheckpointError("cannot build the tokenizer from tokenizer.json", { got: String(err), cause: err });
    }
  }

  /** Token ids of `text`. Special tokens are added only when asked (and only if the post-processor adds any). */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  /** Text of `ids`; special tokens are kept unless `skipSpecialTokens`. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return ""; // the library refuses an empty list
    return this.tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** Number of ids, added tokens included (max id + 1). */
  get vocabSize(): number {
    let max = -1;
    for (const id of this.tok.get_vocab(true).values()) if (id > max) max = id;
    return max + 1;
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Id of a special token named in the config (bos/eos/pad), or null. */
  specialId(which: "bos" | "eos" | "pad"): number | null {
    const text = which === "bos" ? this.bosToken : which === "eos" ? this.eosToken : this.padToken;
    return text === null ? null : (this.tok.token_to_id(text) ?? null);
  }

  /**
   * Render messages with the model's chat template (or PLAIN_CHAT_TEMPLATE), passing what transformers passes:
   * messages, add_generation_prompt, bos/eos/pad/unk token strings.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (!this.template) {
      try {
        this.template = new Template(this.chatTemplate ?? PLAIN_CHAT_TEMPLATE);
      } catch (err) {
        throw new ConfigError("chat_template does not parse", {
          field: "chat_template",
          got: String(err),
          hint: "fix or remove chat_template in tokenizer_config.json",
        });
      }
    }
    try {
      return this.template.render({
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: options.addGenerationPrompt ?? false,
        bos_token: this.bosToken ?? "",
        eos_token: this.eosToken ?? "",
        pad_token: this.padToken ?? "",
        unk_token: tokenText(this.config.unk_token) ?? "",
      });
    } catch (err) {
      throw new ConfigError("chat_template failed to render", { field: "chat_template", got: String(err) });
    }
  }

  /** Token ids of the rendered chat (no extra special tokens, as transformers' apply_chat_template(tokenize=True)). */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options));
  }
}

/** Load `tokenizer.json` and (if present) `tokenizer_config.json` from a model directory. */
export async function loadTokenizer(dir: string): Promise<ModelTokenizer> {
  const read = async (name: string, required: boolean): Promise<object | undefined> => {
    const path = join(dir, name);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if (!required) return undefined;
      throw new CheckpointError("missing tokenizer file", {
        path,
        got: String(err),
        hint: "a model directory needs tokenizer.json; create one with `iopo init-model`",
      });
    }
    try {
      return JSON.parse(text) as object;
    } catch (err) {
      throw new CheckpointError("tokenizer file is not JSON", { path, got: (err as Error).message });
    }
  };
  const json = (await read("tokenizer.json", true))!;
  const config = ((await read("tokenizer_config.json", false)) ?? {}) as TokenizerConfig;
  return new ModelTokenizer(json, config);
}
