// Local GGUF provider on node-llama-cpp 3.21.1 (imported lazily so the CLI starts fast). Checks the file
// (exists, GGUF magic) before loading, maps failures to ProviderError families, constrains structured replies
// with a JSON-schema grammar. One context with `concurrency` sequences; never downloads or builds anything.

import { open, stat } from "node:fs/promises";
import os from "node:os";
import { basename } from "node:path";
import { ProviderError } from "../errors.ts";
import { Aborted, BadRequest, LlmError, ServerError } from "./errors.ts";
import type { CallOptions, ChatProvider } from "./provider.ts";
import type { ChatMessage, ChatResult, Finish } from "./schema.ts";

// ---- types ----

export interface GgufProviderOptions {
  /** Path to a `.gguf` model file. */
  readonly path: string;
  /** Name in the cache key and reports. @default the file's base name */
  readonly model?: string;
  /** Parallel sequences in one context. @default 1 */
  readonly concurrency?: number;
  /** Context size in tokens. @default the model's, capped by node-llama-cpp to fit memory */
  readonly contextSize?: number;
  /** "auto" uses a GPU when node-llama-cpp finds one; false forces CPU. @default "auto" */
  readonly gpu?: "auto" | false;
  /** CPU threads of the context. @default the machine's cores */
  readonly threads?: number;
}

/** The slice of node-llama-cpp we use, typed loosely so the module loads only on demand. */
type LlamaModule = typeof import("node-llama-cpp");
type LlamaModel = Awaited<ReturnType<Awaited<ReturnType<LlamaModule["getLlama"]>>["loadModel"]>>;
type LlamaContext = Awaited<ReturnType<LlamaModel["createContext"]>>;
type LlamaSequence = ReturnType<LlamaContext["getSequence"]>;

// ---- helpers ----

const GGUF_MAGIC = "GGUF";

/** Check that `path` is a readable file starting with the GGUF magic; throws a ProviderError naming the file. */
export async function checkGgufFile(path: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error("not a regular file");
    size = info.size;
  } catch (err) {
    throw new ProviderError("GGUF model file not found", {
      path,
      expected: "an existing .gguf file",
      got: (err as Error).message,
      hint: "pass --gguf <path to a .gguf file>; iopo never downloads models",
    });
  }
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(24);
    const { bytesRead } = await handle.read(head, 0, 24, 0);
    const magic = head.subarray(0, Math.min(4, bytesRead)).toString("latin1");
    const corrupt = (got: string) =>
      new ProviderError("not a GGUF model file (corrupt or wrong format)", {
        path,
        expected: `a GGUF v2/v3 file starting with the bytes "${GGUF_MAGIC}" and a plausible header`,
        got,
        hint: "re-download or re-convert the model (llama.cpp's convert_hf_to_gguf.py)",
      });
    if (bytesRead < 4 || magic !== GGUF_MAGIC)
      throw corrupt(size === 0 ? "an empty file" : `${JSON.stringify(magic)} (${size} bytes)`);
    if (bytesRead < 24) throw corrupt(`a header cut short (${size} bytes)`);
    // Header: version u32, tensor count u64, metadata count u64. Garbage counts make the loader spin, so check
    // them against the smallest possible encoding (tensor info ≥ 33 bytes, metadata entry ≥ 14 bytes).
    const version = head.readUInt32LE(4);
    const tensors = head.readBigUInt64LE(8);
    const kvs = head.readBigUInt64LE(16);
    if (version !== 2 && version !== 3) throw corrupt(`format version ${version}`);
    if (24n + tensors * 33n + kvs * 14n > BigInt(size))
      throw corrupt(`a header announcing ${tensors} tensors and ${kvs} metadata entries in ${size} bytes`);
  } finally {
    await handle.close();
  }
}

function finishOf(stopReason: string): Finish {
  if (stopReason === "maxTokens") return "length";
  if (stopReason === "functionCalls") return "tool_calls";
  return stopReason === "abort" ? "other" : "stop";
}

// ---- exports ----

export class GgufProvider implements ChatProvider {
  readonly kind = "gguf";
  readonly model: string;
  private readonly free: LlamaSequence[] = [];
  private readonly waiting: ((s: LlamaSequence) => void)[] = [];

  private constructor(
    readonly path: string,
    model: string,
    private readonly llama: Awaited<ReturnType<LlamaModule["getLlama"]>>,
    private readonly loaded: LlamaModel,
    private readonly context: LlamaContext,
    private readonly lib: LlamaModule,
  ) {
    this.model = model;
  }

  /** Check the file, load node-llama-cpp and the model; every failure is a ProviderError naming the file. */
  static async open(options: GgufProviderOptions): Promise<GgufProvider> {
    await checkGgufFile(options.path);
    const lib: LlamaModule = await import("node-llama-cpp");
    const concurrency = options.concurrency ?? 1;
    try {
      const llama = await lib.getLlama({
        gpu: options.gpu ?? "auto",
        build: "never",
        skipDownload: true,
        progressLogs: false,
        logLevel: lib.LlamaLogLevel.error,
      });
      const model = await llama.loadModel({ modelPath: options.path });
      const context = await model.createContext({
        sequences: concurrency,
        threads: options.threads ?? os.availableParallelism(),
        ...(options.contextSize ? { contextSize: options.contextSize } : {}),
      });
      const provider = new GgufProvider(
        options.path,
        options.model ?? basename(options.path).replace(/\.gguf$/i, ""),
        llama,
        model,
        context,
        lib,
      );
      for (let i = 0; i < concurrency; i++) provider.free.push(context.getSequence());
      return provider;
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw new ProviderError("cannot load the GGUF model", {
        path: options.path,
        expected: "a GGUF model node-llama-cpp 3.21.1 can load",
        got: (err as Error).message,
        hint: "check the file is complete and its architecture is supported by llama.cpp",
        cause: err,
      });
    }
  }

  async chat(messages: readonly ChatMessage[], options: CallOptions): Promise<ChatResult> {
    const last = messages[messages.length - 1];
    if (last?.role !== "user") throw new BadRequest("the last message must be a user message");
    if (options.signal?.aborted)
      throw options.signal.reason instanceof LlmError ? options.signal.reason : new Aborted("aborted");
    const sequence = await this.acquire();
    const session = new this.lib.LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const history: import("node-llama-cpp").ChatHistoryItem[] = [];
      for (const m of messages.slice(0, -1)) {
        if (m.role === "system") history.push({ type: "system", text: m.content });
        else if (m.role === "user") history.push({ type: "user", text: m.content });
        else history.push({ type: "model", response: [m.content] });
      }
      // Always set the history, also when empty: a new session otherwise starts with node-llama-cpp's default system
      // prompt, which no other back end adds (the model would see a different prompt than under `--model-dir`).
      session.setChatHistory(history);
      const grammar = options.json_schema
        ? await this.llama.createGrammarForJsonSchema(options.json_schema as never)
        : undefined;
      const before = sequence.tokenMeter.getState();
      const reply = await session.promptWithMeta(last.content, {
        ...(options.max_tokens !== undefined ? { maxTokens: options.max_tokens } : {}),
        ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
        ...(options.top_p !== undefined ? { topP: options.top_p } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.stop ? { customStopTriggers: options.stop } : {}),
        ...(grammar ? { grammar } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        // Plain sampling as the OpenAI API and the embedded engine do it: no repeat penalty (node-llama-cpp's
        // default applies one, so temperature 0 would not be plain greedy).
        repeatPenalty: false,
      });
      const used = sequence.tokenMeter.diff(before);
      return {
        text: reply.responseText,
        usage: { prompt_tokens: used.usedInputTokens, completion_tokens: used.usedOutputTokens },
        finish: finishOf(reply.stopReason),
      };
    } catch (err) {
      if (options.signal?.aborted)
        throw options.signal.reason instanceof LlmError ? options.signal.reason : new Aborted("aborted");
      if (err instanceof LlmError) throw err;
      throw new ServerError(`local model failed: ${(err as Error).message}`, { cause: err });
    } finally {
      session.dispose({ disposeSequence: false });
      await sequence.clearHistory();
      this.release(sequence);
    }
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.loaded.dispose();
  }

  private acquire(): Promise<LlamaSequence> {
    const s = this.free.pop();
    return s ? Promise.resolve(s) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(s: LlamaSequence): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else this.free.push(s);
  }
}
