// Back-end flags shared by commands that talk to a model: an OpenAI-compatible endpoint (one or several), a local
// GGUF file, or a model directory trained here. `prefix` gives a second set, e.g. `--judge-base-url`.

import type { Command } from "commander";
import { ConfigError } from "../errors.ts";
import { type ChatProvider, GgufProvider, OpenAIProvider, RequestEngine, type ResponseCache } from "../llm/index.ts";

export interface BackendFlags {
  baseUrl?: string[];
  model?: string;
  apiKeyEnv?: string;
  gguf?: string;
  modelDir?: string;
}

const camel = (prefix: string, name: string) => (prefix ? prefix + name[0]!.toUpperCase() + name.slice(1) : name);

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

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
    .option(`--${p}model <name>`, `model name of ${what} (as the server knows it)`)
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

/** Open the providers the flags name; exactly one kind of back end must be given. */
export async function openProviders(f: BackendFlags, prefix = "", concurrency = 8): Promise<ChatProvider[]> {
  const p = prefix ? `--${prefix}-` : "--";
  const kinds = [(f.baseUrl?.length ?? 0) > 0, f.gguf !== undefined, f.modelDir !== undefined].filter(Boolean).length;
  if (kinds !== 1) {
    throw new ConfigError("give exactly one back end", {
      expected: `${p}base-url <url> (with ${p}model), ${p}gguf <file> or ${p}model-dir <dir>`,
      got: kinds === 0 ? "none" : "several",
    });
  }
  if (f.gguf !== undefined) return [await GgufProvider.open({ path: f.gguf, model: f.model, concurrency: 1 })];
  if (f.modelDir !== undefined) {
    const { ModelProvider } = await import("../model/generate.ts");
    return [await ModelProvider.open(f.modelDir)];
  }
  if (!f.model) throw new ConfigError(`${p}model is required with ${p}base-url`, { expected: `${p}model <name>` });
  return f.baseUrl!.map(
    (baseURL) => new OpenAIProvider({ baseURL, model: f.model!, apiKeyEnv: f.apiKeyEnv, maxSockets: concurrency }),
  );
}

/** A request engine over the providers, with the shared cache and stop signal. */
export function engineFor(
  providers: ChatProvider[],
  o: {
    concurrency: number;
    cache: ResponseCache;
    signal: AbortSignal;
    timeoutMs?: number;
    maxAttempts?: number;
    log: (l: string) => void;
  },
): RequestEngine {
  const local = providers[0]!.kind !== "openai";
  return new RequestEngine({
    endpoints: providers,
    concurrency: local ? 1 : o.concurrency,
    timeoutMs: o.timeoutMs ?? (local ? 3_600_000 : 120_000),
    maxAttempts: o.maxAttempts,
    cache: o.cache,
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
    if (count > 1) process.exit(130);
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

/** The command line to resume this run, quoted for a POSIX shell. */
export function resumeCommand(): string {
  const args = process.argv.slice(2).map((a) => (/^[\w./:=@,+-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`));
  return `iopo ${args.join(" ")}`;
}
