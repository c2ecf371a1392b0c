// Per-run accounting: requests, retries, failures by cause, tokens, cost from a price table, latency p50/p95.
// Pure counters fed by the engine; printing and JSON writing are done by the caller.

import type { FailureCause, PriceTable, Usage } from "./schema.ts";

// ---- types ----

export interface AccountingReport {
  /** Records submitted. */
  readonly total: number;
  /** Records finished (succeeded + failed), including those served from the cache. */
  readonly done: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Records served from the cache (no request sent). */
  readonly cached: number;
  /** HTTP/model calls actually made (attempts). */
  readonly requests: number;
  /** Attempts after the first, summed over records. */
  readonly retries: number;
  /** Failed records by final cause. */
  readonly failures: Partial<Record<FailureCause, number>>;
  /** Failed attempts by cause (including those retried successfully). */
  readonly errors: Partial<Record<FailureCause, number>>;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** USD, from the price table; null when the model has no price. */
  readonly cost_usd: number | null;
  /** Latency of successful calls, ms. */
  readonly latency_ms: { readonly p50: number | null; readonly p95: number | null; readonly mean: number | null };
  readonly elapsed_s: number;
  /** Finished records per second. */
  readonly rate: number;
}

// ---- helpers ----

/** Nearest-rank percentile of a sorted array; null when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

// ---- exports ----

export class Accounting {
  total = 0;
  done = 0;
  succeeded = 0;
  failed = 0;
  cached = 0;
  requests = 0;
  retries = 0;
  promptTokens = 0;
  completionTokens = 0;
  readonly failures: Partial<Record<FailureCause, number>> = {};
  readonly errors: Partial<Record<FailureCause, number>> = {};
  private latencies = new Float64Array(1024);
  private latencyCount = 0;
  private readonly startedAt: number;

  constructor(
    private readonly now: () => number,
    private readonly model: string,
    private readonly prices: PriceTable = {},
  ) {
    this.startedAt = now();
  }

  recordAttempt(latencyMs: number | null, errorKind?: FailureCause): void {
    this.requests++;
    if (errorKind) this.errors[errorKind] = (this.errors[errorKind] ?? 0) + 1;
    if (latencyMs !== null && !errorKind) {
      if (this.latencyCount === this.latencies.length) {
        const grown = new Float64Array(this.latencies.length * 2);
        grown.set(this.latencies);
        this.latencies = grown;
      }
      this.latencies[this.latencyCount++] = latencyMs;
    }
  }

  recordSuccess(usage: Usage, attempts: number, cached: boolean): void {
    this.done++;
    this.succeeded++;
    if (cached) this.cached++;
    else {
      this.retries += Math.max(0, attempts - 1);
      this.promptTokens += usage.prompt_tokens;
      this.completionTokens += usage.completion_tokens;
    }
  }

  recordFailure(cause: FailureCause, attempts: number, cached: boolean): void {
    this.done++;
    this.failed++;
    if (cached) this.cached++;
    else this.retries += Math.max(0, attempts - 1);
    this.failures[cause] = (this.failures[cause] ?? 0) + 1;
  }

  report(): AccountingReport {
    const sorted = this.latencies.slice(0, this.latencyCount).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    const elapsed = Math.max(0, this.now() - this.startedAt) / 1000;
    const price = this.prices[this.model];
    return {
      total: this.total,
      done: this.done,
      succeeded: this.succeeded,
      failed: this.failed,
      cached: this.cached,
      requests: this.requests,
      retries: this.retries,
      failures: { ...this.failures },
      errors: { ...this.errors },
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
      cost_usd: price
        ? (this.promptTokens * price.prompt + this.completionTokens * price.completion) / 1_000_000
        : null,
      latency_ms: {
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        mean: sorted.length ? sum / sorted.length : null,
      },
      elapsed_s: elapsed,
      rate: elapsed > 0 ? this.done / elapsed : 0,
    };
  }
}

/** A few human lines for the end of a run. */
export function formatReport(r: AccountingReport): string {
  const fmt = (v: number | null) => (v === null ? "–" : v.toFixed(0));
  const causes = Object.entries(r.failures)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `records: ${r.done}/${r.total} done, ${r.succeeded} ok, ${r.failed} failed${causes ? ` (${causes})` : ""}, ${r.cached} from cache`,
    `requests: ${r.requests} sent, ${r.retries} retries; tokens: ${r.prompt_tokens} prompt + ${r.completion_tokens} completion` +
      (r.cost_usd !== null ? `; cost $${r.cost_usd.toFixed(4)}` : ""),
    `latency: p50 ${fmt(r.latency_ms.p50)} ms, p95 ${fmt(r.latency_ms.p95)} ms; ${r.elapsed_s.toFixed(1)} s, ${r.rate.toFixed(1)} records/s`,
  ].join("\n");
}
