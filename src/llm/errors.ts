// Provider error families (RateLimited, ServerError, BadRequest, AuthError, ConnectionError, Timeout, Aborted,
// InvalidReply) under ProviderError, and the one factory that maps an HTTP reply to a family: `fromHttp`.
// Does not decide retries (see retry.ts) and never puts secrets in messages: callers redact first.

import { ProviderError } from "../errors.ts";
import type { FailureCause } from "./schema.ts";

// ---- types ----

/** Response headers, lower-cased names. */
export type HeaderMap = Readonly<Record<string, string>>;

export interface LlmErrorInfo {
  /** HTTP status, when there was a reply. */
  readonly status?: number;
  /** The server's request id (`x-request-id`), when given. */
  readonly requestId?: string;
  /** 1-based attempt number this error ended. */
  readonly attempt?: number;
  /** Response headers (for Retry-After). */
  readonly headers?: HeaderMap;
  readonly cause?: unknown;
}

// ---- families ----

/** Base of the families: a ProviderError with a failure `kind`, HTTP status, request id and attempt. */
export abstract class LlmError extends ProviderError {
  abstract readonly kind: FailureCause;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  attempt: number | undefined;
  readonly headers: HeaderMap;
  constructor(message: string, info: LlmErrorInfo = {}) {
    super(message, { cause: info.cause });
    this.status = info.status;
    this.requestId = info.requestId;
    this.attempt = info.attempt;
    this.headers = info.headers ?? {};
  }
}
/** 429: the endpoint asks us to slow down. */
export class RateLimited extends LlmError {
  readonly kind = "rate_limited" as const;
}
/** 5xx, 409, or a reply that is not the JSON it should be. */
export class ServerError extends LlmError {
  readonly kind = "server_error" as const;
}
/** 4xx other than auth, rate limit, timeout and conflict: the request itself is wrong; retrying will not help. */
export class BadRequest extends LlmError {
  readonly kind = "bad_request" as const;
}
/** 401 / 403: missing or wrong API key. */
export class AuthError extends LlmError {
  readonly kind = "auth_error" as const;
}
/** The connection failed or broke mid-reply. */
export class ConnectionError extends LlmError {
  readonly kind = "connection_error" as const;
}
/** The per-request timeout passed, or the server answered 408. */
export class Timeout extends LlmError {
  readonly kind = "timeout" as const;
}
/** The caller stopped the request (Ctrl-C, shutdown). */
export class Aborted extends LlmError {
  readonly kind = "aborted" as const;
}
/** A structured reply that failed validation (bad JSON or schema mismatch). */
export class InvalidReply extends LlmError {
  readonly kind = "invalid_reply" as const;
}

// ---- helpers ----

/** Normalise any header container to a lower-cased plain record. */
export function toHeaderMap(headers: unknown): HeaderMap {
  const out: Record<string, string> = {};
  if (!headers || typeof headers !== "object") return out;
  if (typeof (headers as Headers).forEach === "function" && !Array.isArray(headers)) {
    (headers as Headers).forEach((value, key) => {
      out[key.toLowerCase()] = value;
    });
    return out;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value !== undefined) out[key.toLowerCase()] = String(value);
  }
  return out;
}

/** The most useful short text from an error body: `error.message`, `message`, or the raw text, ≤ 300 chars. */
function bodyMessage(body: unknown): string {
  let text: string;
  if (typeof body === "string") text = body;
  else if (body && typeof body === "object") {
    const b = body as { error?: unknown; message?: unknown };
    const inner = b.error && typeof b.error === "object" ? (b.error as { message?: unknown }).message : b.error;
    text = typeof inner === "string" ? inner : typeof b.message === "string" ? b.message : JSON.stringify(body);
  } else text = "";
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Replace every occurrence of each secret in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join("[redacted]");
  return out;
}

// ---- exports ----

/** The one mapping from an HTTP error reply to an error family. `body` is parsed JSON or text. */
export function fromHttp(status: number, body: unknown, headers: unknown, secrets: readonly string[] = []): LlmError {
  const map = toHeaderMap(headers);
  const detail = redact(bodyMessage(body), secrets);
  const message = `HTTP ${status}${detail ? `: ${detail}` : ""}`;
  const info: LlmErrorInfo = { status, headers: map, requestId: map["x-request-id"] };
  if (status === 429) return new RateLimited(message, info);
  if (status === 408) return new Timeout(message, info);
  if (status === 401 || status === 403) return new AuthError(message, info);
  if (status === 409 || status >= 500) return new ServerError(message, info);
  return new BadRequest(message, info);
}
