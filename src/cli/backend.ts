// The one back-end layer of every command that takes a model: its flags (an OpenAI-compatible endpoint, one or
// several; a local GGUF file; a model directory trained here), their checks, opening the providers, the request
// engine with its timeouts, and how a run stops on Ctrl-C (state kept, exit 130, the resume command printed).
// `prefix` gives a second set of flags, e.g. `--judge-base-url`. Commands keep their own non-model flags.

import type { Command } from "commander";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import {
  type ChatProvider,
  GgufProvider,
  OpenAIProvider,
  type PriceTable,
  parseBaseUrl,
  RequestEngine,
  type ResponseCache,
  redactUrl,
} from "../llm/index.ts";
import { checkTokenizerFitsModel, loadModelConfig, loadTokenizer } from "../model/index.ts";

// ---- types ----

export interface BackendFlags {
  baseUrl?: string[];
  model?: string;
  apiKeyEnv?: string;
  gguf?: string;
  modelDir?: string;
}

/** Per-attempt timeout of a request to an endpoint, ms. */
export const ENDPOINT_TIMEOUT_MS = 120_000;
/** Per-attempt timeout of a local model (GGUF or model dir) on the CPU: one long reply can take many minutes. */
export const LOCAL_TIMEOUT_MS = 3_600_000;

/** The back-end flags in a command's option schema (merge into it with `.extend(BACKEND_SHAPE)`). */
export const BACKEND_SHAPE = {
  baseUrl: z.array(z.string()).default([]),
  model: z.string().min(1).optional(),
  apiKeyEnv: z.string().min(1).optional(),
  gguf: z.string().min(1).optional(),
  modelDir: z.string().min(1).optional(),
};

// ---- helpers ----

const camel = (prefix: string, name: string) => (prefix ? prefix + name[0]!.toUpperCase() + name.slice(1) : name);

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

// ---- exports ----

/** Add `--[prefix-]base-url`, `--[prefix-]model`, `--[prefix-]api-key-env`, `--[prefix-]gguf`, `--[prefix-]model-dir`. */
export function addBackendOptions(command: Command, prefix = "", what = "the model"): Command {
  const p = prefix ? `${prefix}-` : "";
  return command
    .option(
      `--${p}base-url <url>`,
      `OpenAI-compatible base URL of ${what}, incl. /v1 (repeat for several endpoints)`,
      collect,
      [],
    )
    .option(`--${p}model <name>`, `model name of ${what} (required with --${p}base-url; default for a GGUF: file name)`)
    .option(`--${p}api-key-env <VAR>`, `environment variable holding ${what}'s API key (never the key itself)`)
    .option(`--${p}gguf <file>`, `local GGUF file for ${what} (instead of a URL)`)
    .option(`--${p}model-dir <dir>`, `model directory trained by iopo for ${what} (instead of a URL)`);
}

/** Read one set of back-end flags from commander's options object. */
export function backendFlags(opts: Record<string, unknown>, prefix = ""): BackendFlags {
  const get = (name: string) => opts[camel(prefix, name)];
  return {
    baseUrl: (get("baseUrl") as string[] | undefined) ?? [],
    model: get("model") as string | undefined,
    apiKeyEnv: get("apiKeyEnv") as string | undefined,
    gguf: get("gguf") as string | undefined,
    modelDir: get("modelDir") as string | undefined,
  };
}

/** The flags with credentials in URLs replaced by `***` (for printing and for the saved config). */
export function redactFlags<T extends { baseUrl?: readonly string[] }>(f: T): T {
  return f.baseUrl ? { ...f, baseUrl: f.baseUrl.map(redactUrl) } : f;
}

/** Check the flags without opening anything: exactly one kind of back end, URLs http(s), --model with a URL. */
export function checkBackend(f: BackendFlags, prefix = ""): void {
  const p = prefix ? `--${prefix}-` : "--";
  const kinds = [(f.baseUrl?.length ?? 0) > 0, f.gguf !== undefined, f.modelDir !== undefined].filter(Boolean).length;
  if (kinds !== 1)
    throw new ConfigError("give exactly one back end", {
      field: `${p}base-url`,
      expected: `${p}base-url <url> (with ${p}model), ${p}gguf <file> or ${p}model-dir <dir>`,
      got: kinds === 0 ? "none" : "several",
      hint: `e.g. ${p}base-url http://localhost:8000/v1 ${p}model qwen2.5-7b`,
    });
  for (const url of f.baseUrl ?? []) parseBaseUrl(url, `${p}base-url`);
  if (f.apiKeyEnv !== undefined && !process.env[f.apiKeyEnv])
    throw new ConfigError(`environment variable ${f.apiKeyEnv} is not set`, {
      field: `${p}api-key-env`,
      expected: "the name of a set environment variable holding the API key",
      got: "unset or empty",
      hint: `export ${f.apiKeyEnv}=... before running, or drop ${p}api-key-env for a local server`,
    });
  if ((f.baseUrl?.length ?? 0) > 0 && !f.model)
    throw new ConfigError(`${p}model is required with ${p}base-url`, {
      field: `${p}model`,
      expected: `${p}model <name> (the name the server knows)`,
      got: "nothing",
      hint: "list the server's models with: curl <base-url>/models",
    });
}

/** Open the providers the flags name (checked first; see checkBackend). */
export async function openProviders(f: BackendFlags, prefix = "", concurrency = 8): Promise<ChatProvider[]> {
  checkBackend(f, prefix);
  if (f.gguf !== undefined) return [await GgufProvider.open({ path: f.gguf, model: f.model, concurrency: 1 })];
  if (f.modelDir !== undefined) {
    // A tokenizer larger than the embedding table would fail every request deep in a Gather: refuse it now.
    const [cfg, tok] = await Promise.all([loadModelConfig(f.modelDir), loadTokenizer(f.modelDir)]);
    checkTokenizerFitsModel(tok, cfg, f.modelDir);
    const { ModelProvider } = await import("../model/index.ts");
    return [await ModelProvider.open(f.modelDir)];
  }
  return f.baseUrl!.map(
    (baseURL) => new OpenAIProvider({ baseURL, model: f.model!, apiKeyEnv: f.apiKeyEnv, maxSockets: concurrency }),
  );
}

/**
 * A request engine over the providers, with the shared cache and stop signal. A local model runs one request at a
 * time with a long per-attempt timeout (LOCAL_TIMEOUT_MS); endpoints get `concurrency` and ENDPOINT_TIMEOUT_MS.
 */
export function engineFor(
  providers: ChatProvider[],
  o: {
    concurrency: number;
    cache: ResponseCache;
    signal: AbortSignal;
    timeoutMs?: number;
    maxAttempts?: number;
    prices?: PriceTable;
    log: (l: string) => void;
  },
): RequestEngine {
  const local = providers[0]!.kind !== "openai";
  return new RequestEngine({
    endpoints: providers,
    concurrency: local ? 1 : o.concurrency,
    timeoutMs: o.timeoutMs ?? (local ? LOCAL_TIMEOUT_MS : ENDPOINT_TIMEOUT_MS),
    maxAttempts: o.maxAttempts,
    cache: o.cache,
    prices: o.prices,
    signal: o.signal,
    log: o.log,
  });
}

/** SIGINT/SIGTERM stop the run gracefully (a second signal exits at once); returns the signal and a remover. */
export function onStopSignals(name: string): { signal: AbortSignal; dispose: () => void } {
  const stop = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count > 1) {
      process.stderr.write(`iopo ${name}: second ${sig}, exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`iopo ${name}: ${sig}: stopping; finished records are kept\n`);
    stop.abort();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: stop.signal,
    dispose: () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}

/**
 * For commands whose state on disk is always resumable (checkpoints, chunked run state, atomic files): SIGINT or
 * SIGTERM prints where the state is and the command that resumes it, then exits 130 at once.
 */
export function exitOnStopSignals(name: string, state: string, resume = resumeCommand()): () => void {
  const handler = (sig: NodeJS.Signals) => {
    process.stderr.write(`\niopo ${name}: ${sig}: stopped; ${state}.\nResume with: ${resume}\n`);
    process.exit(130);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/** The command line to resume this run, quoted for a POSIX shell, credentials in URLs redacted. */
export function resumeCommand(extra: readonly string[] = []): string {
  const argv = process.argv.slice(2);
  const args = [...argv, ...extra.filter((a) => !argv.includes(a))].map((raw) => {
    const a = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? redactUrl(raw) : raw;
    return /^[\w./:=@,+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
  });
  return `iopo ${args.join(" ")}`;
}
