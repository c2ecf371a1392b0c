// Retry policy as a pure function: given the attempt number and the error, how long to wait, or null to stop.
// Does not sleep, count attempts against a maximum or read the clock: the engine does that.

import { LlmError } from "./errors.ts";

// ---- constants ----

/** First backoff step, ms. */
export const BASE_DELAY_MS = 500;
/** Backoff ceiling, ms. */
export const MAX_DELAY_MS = 8_000;
/** Server-requested delays above this are ignored (fall back to backoff), ms. */
export const MAX_SERVER_DELAY_MS = 60_000;
/** Share of the delay removed at random (jitter). */
export const JITTER = 0.25;

// ---- helpers ----

/**
 * Delay the server asks for, in ms: `retry-after-ms`, then `retry-after` as seconds or an HTTP date.
 * `now` is used for dates. Returns undefined when absent, unparsable or outside [0, 60 s].
 */
export function serverDelay(headers: Readonly<Record<string, string>>, now: number): number | undefined {
  let ms: number | undefined;
  const msHeader = headers["retry-after-ms"];
  if (msHeader !== undefined && msHeader.trim() !== "" && Number.isFinite(Number(msHeader))) ms = Number(msHeader);
  const header = headers["retry-after"];
  if (ms === undefined && header !== undefined && header.trim() !== "") {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) ms = seconds * 1000;
    else {
      const date = Date.parse(header);
      if (Number.isFinite(date)) ms = date - now;
    }
  }
  if (ms === undefined || ms < 0 || ms > MAX_SERVER_DELAY_MS) return undefined;
  return ms;
}

/** Whether an error is worth another attempt: 408, 409, 429, ≥ 500, connection errors, timeouts, bad replies. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof LlmError)) return false;
  switch (error.kind) {
    case "rate_limited":
    case "server_error":
    case "connection_error":
    case "timeout":
    case "invalid_reply":
      return true;
    default:
      return false;
  }
}

// ---- exports ----

/**
 * Milliseconds to wait before attempt `attempt + 1`, or null to give up on this error.
 * `attempt` is the 1-based number of the attempt that just failed; `rand` is uniform in [0, 1).
 * Server delays win when present and ≤ 60 s; otherwise 0.5 s·2^(attempt−1), capped at 8 s, minus up to 25% jitter.
 */
export function nextDelay(
  attempt: number,
  error: unknown,
  headers: Readonly<Record<string, string>> | undefined,
  rand: number,
  now = Date.now(),
): number | null {
  if (!isRetryable(error)) return null;
  const server = headers ? serverDelay(headers, now) : undefined;
  if (server !== undefined) return server;
  const backoff = Math.min(BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1), MAX_DELAY_MS);
  return Math.round(backoff * (1 - JITTER * rand));
}
