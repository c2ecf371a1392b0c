// The request engine: runs many keyed chat requests over one or more endpoints of the same model with
// bounded concurrency per endpoint (least-busy), per-request timeouts, retries (retry.ts), a persistent cache,
// optional structured-reply validation, accounting and graceful stop. It does no file I/O besides the cache.

import { setMaxListeners } from "node:events";
import { ConfigError } from "../errors.ts";
import { Accounting, type AccountingReport } from "./accounting.ts";
import { cacheKey, type ResponseCache } from "./cache.ts";
import { Aborted, LlmError, ServerError, Timeout } from "./errors.ts";
import { type ChatProvider, type Clock, realClock, sleep } from "./provider.ts";
import { nextDelay } from "./retry.ts";
import type { ChatMessage, ChatOptions, ChatResult, Failure, PriceTable } from "./schema.ts";

// ---- types ----

export interface Endpoint {
  readonly provider: ChatProvider;
  /** Requests in flight at once on this endpoint. @default EngineOptions.concurrency */
  readonly concurrency?: number;
}

export interface EngineOptions {
  /** One or more providers of the same kind and model (interchangeable endpoints). */
  readonly endpoints: readonly (ChatProvider | Endpoint)[];
  /** Default requests in flight per endpoint. @default 8 */
  readonly concurrency?: number;
  /** Per-attempt timeout, ms. @default 120000 */
  readonly timeoutMs?: number;
  /** Attempts per record before it is written as failed. @default 5 */
  readonly maxAttempts?: number;
  /** Persistent cache; without it every record is requested. */
  readonly cache?: ResponseCache;
  /** Treat failures recorded in the cache as final (no request). @default true */
  readonly reuseFailures?: boolean;
  /** USD per million tokens by model, for accounting. */
  readonly prices?: PriceTable;
  /** Stops the run: no new requests, in-flight ones are abandoned (not recorded). */
  readonly signal?: AbortSignal;
  /** Injected time (tests use a fake clock). @default realClock */
  readonly clock?: Clock;
  /** Injected randomness in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Called after every finished record (throttle inside). */
  readonly onProgress?: (accounting: Accounting) => void;
  /** Receives one line per retry or failure; never contains secrets. */
  readonly log?: (line: string) => void;
}

export interface EngineRequest {
  readonly id: string | number;
  /** Precomputed `engine.keyOf(request)`, to save hashing twice; computed when absent. */
  readonly key?: string;
  readonly messages: readonly ChatMessage[];
  /** Per-request sampling options, merged over the run's defaults field by field. */
  readonly options?: ChatOptions;
}

export type EngineOutcome<T = string> =
  | {
      readonly ok: true;
      readonly id: string | number;
      readonly key: string;
      readonly result: ChatResult;
      /** Parsed value (structured runs) or the text. */
      readonly value: T;
      readonly attempts: number;
      readonly cached: boolean;
    }
  | {
      readonly ok: false;
      readonly id: string | number;
      readonly key: string;
      readonly error: Failure;
      readonly cached: boolean;
    };

/** Turns reply text (of `request`) into a value or throws (an InvalidReply is retried). */
export type ReplyParser<T> = (text: string, request: EngineRequest) => T;

export interface RunSummary {
  /** True when the run was stopped before every record finished. */
  readonly stopped: boolean;
  readonly report: AccountingReport;
}

// ---- helpers ----

interface Slot {
  readonly provider: ChatProvider;
  readonly capacity: number;
  busy: number;
}

const DEFAULTS = { concurrency: 8, timeoutMs: 120_000, maxAttempts: 5 } as const;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name} must be a positive integer`, { expected: "an integer ≥ 1", got: String(value) });
  return value;
}

function toLlmError(err: unknown): LlmError {
  if (err instanceof LlmError) return err;
  return new ServerError(`provider failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

// ---- exports ----

export class RequestEngine {
  readonly kind: string;
  readonly model: string;
  private readonly slots: Slot[];
  private readonly waiters: ((slot: Slot) => void)[] = [];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly stopController = new AbortController();
  /** Controllers of calls in flight (a Set, not one listener each on the stop signal: cheaper at 256+ in flight). */
  private readonly calls = new Set<AbortController>();

  constructor(private readonly options: EngineOptions) {
    if (options.endpoints.length === 0)
      throw new ConfigError("the request engine needs at least one endpoint", { expected: "≥ 1 provider", got: "0" });
    const concurrency = positiveInt("concurrency", options.concurrency ?? DEFAULTS.concurrency);
    this.slots = options.endpoints.map((e) => {
      const endpoint: Endpoint = "chat" in e ? { provider: e } : e;
      return {
        provider: endpoint.provider,
        capacity: positiveInt("endpoint concurrency", endpoint.concurrency ?? concurrency),
        busy: 0,
      };
    });
    const first = this.slots[0]!.provider;
    for (const s of this.slots)
      if (s.provider.kind !== first.kind || s.provider.model !== first.model)
        throw new ConfigError("all endpoints of one engine must serve the same model", {
          expected: `${first.kind}:${first.model}`,
          got: `${s.provider.kind}:${s.provider.model}`,
        });
    this.kind = first.kind;
    this.model = first.model;
    this.timeoutMs = positiveInt("timeoutMs", options.timeoutMs ?? DEFAULTS.timeoutMs);
    this.maxAttempts = positiveInt("maxAttempts", options.maxAttempts ?? DEFAULTS.maxAttempts);
    // Every in-flight call listens to the stop signal: lift Node's 10-listener warning for it.
    setMaxListeners(0, this.stopController.signal);
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    if (options.signal) {
      if (options.signal.aborted) this.stop();
      else options.signal.addEventListener("abort", () => this.stop(), { once: true });
    }
  }

  /** Stop: no new requests; in-flight calls are aborted and not recorded. */
  stop(): void {
    if (this.stopController.signal.aborted) return;
    const reason = new Aborted("the run was stopped");
    this.stopController.abort(reason);
    for (const call of this.calls) call.abort(reason);
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Cache key of a request under this engine's provider kind and model. */
  keyOf(request: EngineRequest): string {
    return cacheKey({ kind: this.kind, model: this.model, messages: request.messages, options: request.options ?? {} });
  }

  /**
   * Run requests; `onResult` gets each finished record (after its cache write commits), in completion order.
   * With `parse`, replies are validated and an invalid one is retried like a server error.
   */
  async run<T = string>(
    requests: Iterable<EngineRequest> | AsyncIterable<EngineRequest>,
    onResult?: (outcome: EngineOutcome<T>) => void,
    parse?: ReplyParser<T>,
  ): Promise<RunSummary> {
    await Promise.all(this.slots.map((s) => s.provider.ready?.()));
    const acc = new Accounting(() => this.clock.now(), this.model, this.options.prices);
    const cache = this.options.cache;
    const reuseFailures = this.options.reuseFailures ?? true;
    const capacity = this.slots.reduce((n, s) => n + s.capacity, 0);
    const maxPending = capacity * 2; // records started but not finished (waiting for a slot, a retry or a commit)
    const inFlight = new Map<string, Promise<EngineOutcome<T> | undefined>>();
    let pending = 0;
    let wake: (() => void) | undefined;
    const emit = (o: EngineOutcome<T>) => {
      if (o.ok) acc.recordSuccess(o.result.usage, o.attempts, o.cached);
      else acc.recordFailure(o.error.cause, o.error.attempts, o.cached);
      onResult?.(o);
      this.options.onProgress?.(acc);
    };
    const parseOr = (text: string, request: EngineRequest): T => (parse ? parse(text, request) : (text as T));

    for await (const request of requests) {
      if (this.stopped) break;
      acc.total++;
      const key = request.key ?? this.keyOf(request);
      const found = cache?.lookup(key);
      const hit = found?.result;
      if (hit) {
        let value: T | undefined;
        try {
          value = parseOr(hit.text, request);
        } catch {
          value = undefined; // a cached reply that no longer parses is requested again below
        }
        if (value !== undefined || !parse) {
          const { attempts, ...result } = hit;
          emit({ ok: true, id: request.id, key, result, value: value as T, attempts, cached: true });
          continue;
        }
      }
      const failure = reuseFailures ? found?.failure : undefined;
      if (failure) {
        emit({ ok: false, id: request.id, key, error: failure, cached: true });
        continue;
      }
      const shared = inFlight.get(key);
      if (shared) {
        // Same request under another id: one call serves both.
        pending++;
        void shared.then((o) => {
          pending--;
          if (o) emit({ ...o, id: request.id, cached: true });
          wake?.();
        });
      } else {
        pending++;
        const task = this.attempts(request, key, acc, parse).then((o) => {
          inFlight.delete(key);
          pending--;
          if (o) emit(o);
          wake?.();
          return o;
        });
        inFlight.set(key, task);
      }
      while (pending >= maxPending && !this.stopped) await new Promise<void>((r) => (wake = r));
    }
    while (pending > 0) await new Promise<void>((r) => (wake = r));
    cache?.flush();
    return { stopped: this.stopped, report: acc.report() };
  }

  /** Run a single request (with cache and retries); resolves to its outcome, or an `aborted` failure if stopped. */
  async request<T = string>(request: EngineRequest, parse?: ReplyParser<T>): Promise<EngineOutcome<T>> {
    let outcome: EngineOutcome<T> | undefined;
    await this.run<T>([request], (o) => (outcome = o), parse);
    return (
      outcome ?? {
        ok: false,
        id: request.id,
        key: this.keyOf(request),
        error: { cause: "aborted", message: "the run was stopped", attempts: 0 },
        cached: false,
      }
    );
  }

  /** The attempt loop for one record; undefined when abandoned by a stop. */
  private async attempts<T>(
    request: EngineRequest,
    key: string,
    acc: Accounting,
    parse: ReplyParser<T> | undefined,
  ): Promise<EngineOutcome<T> | undefined> {
    const stop = this.stopController.signal;
    const cache = this.options.cache;
    let last: Slot | undefined;
    for (let attempt = 1; ; attempt++) {
      if (stop.aborted) return undefined;
      const slot = await this.acquire(last);
      if (!slot) return undefined;
      last = slot;
      const started = this.clock.now();
      let error: LlmError;
      try {
        const result = await this.callOnce(slot.provider, request);
        const value = parse ? parse(result.text, request) : (result.text as T);
        acc.recordAttempt(this.clock.now() - started);
        if (cache) await cache.put(key, { ...result, attempts: attempt });
        return { ok: true, id: request.id, key, result, value, attempts: attempt, cached: false };
      } catch (err) {
        error = toLlmError(err);
        error.attempt = attempt;
      } finally {
        this.release(slot);
      }
      if (stop.aborted) return undefined;
      acc.recordAttempt(this.clock.now() - started, error.kind);
      const delay =
        attempt < this.maxAttempts ? nextDelay(attempt, error, error.headers, this.random(), this.clock.now()) : null;
      if (delay === null) {
        const failure: Failure = {
          cause: error.kind,
          message: error.message,
          ...(error.status !== undefined ? { status: error.status } : {}),
          attempts: attempt,
        };
        this.options.log?.(
          `id ${JSON.stringify(request.id)}: failed after ${attempt} attempt(s): ${error.kind}: ${error.message}`,
        );
        if (cache) await cache.putFailure(key, failure);
        return { ok: false, id: request.id, key, error: failure, cached: false };
      }
      this.options.log?.(
        `id ${JSON.stringify(request.id)}: attempt ${attempt} ${error.kind}${error.requestId ? ` (request ${error.requestId})` : ""}: ${error.message}; retry in ${delay} ms`,
      );
      try {
        await sleep(this.clock, delay, stop);
      } catch {
        return undefined;
      }
    }
  }

  /** One call with the per-attempt timeout; the call's controller is registered so `stop()` can abort it. */
  private async callOnce(provider: ChatProvider, request: EngineRequest): Promise<ChatResult> {
    const call = new AbortController();
    this.calls.add(call);
    let cancelTimer: () => void = () => {};
    const timeout = new Promise<never>((_, reject) => {
      cancelTimer = this.clock.setTimer(this.timeoutMs, () => {
        const err = new Timeout(`no reply within ${this.timeoutMs} ms`);
        call.abort(err);
        reject(err);
      });
    });
    const chat = provider.chat(request.messages, { ...request.options, signal: call.signal });
    chat.catch(() => {}); // settled through the race; a late rejection after a timeout is expected
    try {
      return await Promise.race([chat, timeout]);
    } finally {
      cancelTimer();
      this.calls.delete(call);
    }
  }

  /** Least-busy endpoint with a free slot, preferring one other than `avoid`; waits when all are full. */
  private acquire(avoid?: Slot): Promise<Slot | undefined> {
    let best: Slot | undefined;
    for (const s of this.slots) {
      if (s.busy >= s.capacity) continue;
      if (!best) best = s;
      else {
        const worse =
          (best === avoid) !== (s === avoid) ? best === avoid : s.busy / s.capacity < best.busy / best.capacity;
        if (worse) best = s;
      }
    }
    if (best) {
      best.busy++;
      return Promise.resolve(best);
    }
    return new Promise<Slot | undefined>((resolve) => {
      const stop = this.stopController.signal;
      const onStop = () => resolve(undefined);
      stop.addEventListener("abort", onStop, { once: true });
      this.waiters.push((slot) => {
        stop.removeEventListener("abort", onStop);
        resolve(slot);
      });
    });
  }

  private release(slot: Slot): void {
    const next = this.waiters.shift();
    if (next && !this.stopped) next(slot);
    else slot.busy--;
  }
}
