// The provider interface every LLM back end implements (OpenAI-compatible HTTP, local GGUF, and later the
// in-process model and the offline world), plus the injected clock. No retries, caching or concurrency here.

import type { ChatMessage, ChatOptions, ChatResult } from "./schema.ts";

// ---- types ----

export interface CallOptions extends ChatOptions {
  /** Aborts the call (timeout, Ctrl-C). Providers must reject with an `Aborted` or `Timeout` error. */
  readonly signal?: AbortSignal;
}

/** One chat call. Implementations throw LlmError families (see errors.ts) and never retry themselves. */
export interface ChatProvider {
  /** Provider family, part of the cache key: "openai", "gguf", "model", "offline". */
  readonly kind: string;
  /** Model name as the back end knows it, part of the cache key. */
  readonly model: string;
  chat(messages: readonly ChatMessage[], options: CallOptions): Promise<ChatResult>;
  /** Finish lazy set-up (imports, model loading) so it does not count against the first calls' timeouts. */
  ready?(): Promise<void>;
  /** Release sockets, models, contexts. Optional. */
  close?(): Promise<void>;
}

/** Time source and timers, injected so retry and timeout tests run on a fake clock. */
export interface Clock {
  now(): number;
  /** Call `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

// ---- exports ----

/** The real clock: Date.now and setTimeout. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/** Resolve after `ms` on `clock`; reject with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal!.reason);
    };
    const cancel = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
