// OpenAI-compatible chat provider on the official `openai` SDK: vLLM, llama.cpp server, Ollama, SGLang, hosted APIs.
// The SDK's own retries are off (the engine retries); replies are validated with zod; the API key is redacted
// from every error. The SDK is imported on the first call (≈0.5 s saved on every CLI start). No streaming.

import type OpenAI from "openai";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { Aborted, ConnectionError, fromHttp, LlmError, redact, ServerError, Timeout } from "./errors.ts";
import { createHttpFetch } from "./http-fetch.ts";
import type { CallOptions, ChatProvider } from "./provider.ts";
import type { ChatMessage, ChatResult, Finish } from "./schema.ts";

// ---- types ----

export interface OpenAIProviderOptions {
  /** Server root including the API prefix, e.g. `http://localhost:8000/v1`. */
  readonly baseURL: string;
  /** Model name the server knows. */
  readonly model: string;
  /** Name of the environment variable that holds the key; unset means no key (local servers). */
  readonly apiKeyEnv?: string;
  /** Environment to read the key from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** SDK-level timeout, ms; the engine's per-request timeout normally fires first. @default 600000 */
  readonly timeoutMs?: number;
  /** Custom fetch (tests, proxies). @default keep-alive node:http fetch (http-fetch.ts) */
  readonly fetch?: typeof fetch;
  /** Sockets kept open to the endpoint (the default fetch only); match the concurrency. @default 256 */
  readonly maxSockets?: number;
}

/** The reply fields we use, validated (a 200 with the wrong shape is a server error, not a crash). */
const CompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }).passthrough(),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
  usage: z
    .object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional() })
    .nullable()
    .optional(),
});

// ---- helpers ----

export function normaliseFinish(reason: string | null | undefined): Finish {
  switch (reason) {
    case "stop":
    case "length":
    case "content_filter":
    case "tool_calls":
      return reason;
    case "eos":
    case "stop_sequence":
    case "end_turn":
      return "stop";
    case "max_tokens":
      return "length";
    default:
      return reason == null ? "stop" : "other";
  }
}

/** What is wrong with a reply that is not a chat completion, in words: `choices: expected at least 1, got 0 items`. */
function malformed(raw: unknown, error: z.ZodError): string {
  if (typeof raw === "string")
    return `malformed reply: expected a chat completion object, got text ${JSON.stringify(raw.slice(0, 80))}`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return `malformed reply: expected a chat completion object, got ${Array.isArray(raw) ? "an array" : String(raw)}`;
  const issue = error.issues[0]!;
  let got: unknown = raw;
  for (const k of issue.path)
    got = got && typeof got === "object" ? (got as Record<PropertyKey, unknown>)[k] : undefined;
  const field = issue.path.map(String).join(".") || "(the reply)";
  const what =
    got === undefined
      ? "nothing"
      : Array.isArray(got)
        ? `${got.length} item(s)`
        : typeof got === "object"
          ? JSON.stringify(got).slice(0, 80)
          : JSON.stringify(got);
  return `malformed reply: chat completion field ${field}: ${issue.message.replace(/^Invalid input: /, "")}; got ${what}`;
}

// ---- exports ----

/** `url` with any `user:password@` replaced by `***@`, for printing (a URL that does not parse is returned as is). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = "***";
    u.password = "";
    return u.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, "//***@");
  }
}

/**
 * Check an endpoint URL (http or https only) and split off its credentials. Returns the URL without them and the
 * secrets to redact (`user:password`, and each part of it as written and decoded).
 */
export function parseBaseUrl(raw: string, flag = "--base-url"): { url: string; credentials: string[] } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${flag}: not a URL`, {
      expected: "an http(s) URL such as http://localhost:8000/v1",
      got: JSON.stringify(redactUrl(raw)),
      hint: `give the server's OpenAI-compatible root, including /v1, to ${flag}`,
    });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new ConfigError(`${flag}: unsupported URL scheme ${url.protocol}`, {
      expected: "http: or https:",
      got: url.protocol,
      hint: `an OpenAI-compatible server speaks HTTP: ${flag} http://host:port/v1`,
    });
  const credentials: string[] = [];
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    credentials.push(`${user}:${pass}`, `${url.username}:${url.password}`);
    for (const part of [url.password, pass, url.username, user]) if (part.length >= 3) credentials.push(part);
    url.username = "";
    url.password = "";
  }
  const clean = url.toString();
  return { url: raw.endsWith("/") || !clean.endsWith("/") ? clean : clean.slice(0, -1), credentials };
}

export class OpenAIProvider implements ChatProvider {
  readonly kind = "openai";
  readonly model: string;
  readonly baseURL: string;
  private client: Promise<{ client: OpenAI; sdk: typeof import("openai") }> | undefined;
  private readonly clientOptions: ConstructorParameters<typeof OpenAI>[0];
  private readonly secrets: string[];

  constructor(options: OpenAIProviderOptions) {
    const { url, credentials } = parseBaseUrl(options.baseURL);
    let apiKey = "not-needed";
    if (options.apiKeyEnv !== undefined) {
      const value = (options.env ?? process.env)[options.apiKeyEnv];
      if (!value)
        throw new ConfigError(`environment variable ${options.apiKeyEnv} is not set`, {
          field: "api-key-env",
          expected: "the name of a set environment variable holding the API key",
          got: "unset or empty",
          hint: `export ${options.apiKeyEnv}=... before running, or drop --api-key-env for a local server`,
        });
      apiKey = value;
    }
    this.secrets = [...(apiKey === "not-needed" ? [] : [apiKey]), ...credentials];
    this.model = options.model;
    this.baseURL = url;
    // Credentials in the URL (`http://user:pass@host/v1`) go as HTTP Basic auth, unless an API key is given;
    // fetch refuses URLs that hold them, and they must never reach a log, an error or the stats file.
    const basic = credentials.length > 0 && apiKey === "not-needed" ? credentials[0] : undefined;
    const token = basic === undefined ? undefined : Buffer.from(basic).toString("base64");
    if (token) this.secrets.push(token);
    this.clientOptions = {
      apiKey,
      baseURL: url,
      ...(token ? { defaultHeaders: { Authorization: `Basic ${token}` } } : {}),
      maxRetries: 0,
      timeout: options.timeoutMs ?? 600_000,
      logLevel: "off",
      fetch: options.fetch ?? createHttpFetch({ maxSockets: options.maxSockets }),
    };
  }

  async ready(): Promise<void> {
    await this.sdk();
  }

  private sdk(): Promise<{ client: OpenAI; sdk: typeof import("openai") }> {
    this.client ??= import("openai").then((sdk) => ({ client: new sdk.OpenAI(this.clientOptions), sdk }));
    return this.client;
  }

  async chat(messages: readonly ChatMessage[], options: CallOptions): Promise<ChatResult> {
    const { signal, json_schema, ...sampling } = options;
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      ...sampling,
      ...(json_schema
        ? {
            response_format: { type: "json_schema", json_schema: { name: "reply", schema: json_schema, strict: true } },
          }
        : {}),
    };
    const { client, sdk } = await this.sdk();
    let raw: unknown;
    try {
      raw = await client.chat.completions.create(body, signal ? { signal } : {});
    } catch (err) {
      throw this.mapError(sdk, err, signal);
    }
    const parsed = CompletionSchema.safeParse(raw);
    if (!parsed.success) throw new ServerError(redact(malformed(raw, parsed.error), this.secrets));
    const choice = parsed.data.choices[0]!;
    return {
      text: choice.message.content ?? "",
      usage: {
        prompt_tokens: Math.max(0, Math.round(parsed.data.usage?.prompt_tokens ?? 0)),
        completion_tokens: Math.max(0, Math.round(parsed.data.usage?.completion_tokens ?? 0)),
      },
      finish: normaliseFinish(choice.finish_reason),
    };
  }

  /** SDK error → error family, with the API key redacted. */
  private mapError(sdk: typeof import("openai"), err: unknown, signal: AbortSignal | undefined): LlmError {
    const { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } = sdk;
    if (signal?.aborted && signal.reason instanceof LlmError) return signal.reason;
    if (err instanceof APIUserAbortError || signal?.aborted) return new Aborted("request aborted");
    if (err instanceof APIConnectionTimeoutError) return new Timeout("the SDK timed out waiting for a reply");
    if (err instanceof APIConnectionError) {
      const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
      return new ConnectionError(redact(`connection failed${cause}`, this.secrets));
    }
    if (err instanceof APIError && typeof err.status === "number")
      return fromHttp(err.status, err.error ?? err.message, err.headers, this.secrets);
    if (err instanceof SyntaxError) return new ServerError("malformed JSON in the reply body");
    const text = err instanceof Error ? err.message : String(err);
    return new ConnectionError(redact(`reply failed: ${text}`, this.secrets));
  }
}
