// The `iopo generate` job as a library: read `{id, messages}` / `{id, prompt}` lines, run them through the engine
// (cache = resume state), then write `{id, text, usage, finish, attempts}` / `{id, error}` lines atomically, in
// input order, each id once. A stopped or killed run writes no output; rerunning resumes from the cache.

import { DataError } from "../errors.ts";
import { readJsonl, writeFileAtomic, writeJsonlAtomic } from "../io/index.ts";
import type { AccountingReport } from "./accounting.ts";
import type { ResponseCache } from "./cache.ts";
import type { EngineRequest, RequestEngine } from "./engine.ts";
import type { Progress } from "./progress.ts";
import { type ChatMessage, type ChatOptions, GenerateInputSchema, type GenerateOutput } from "./schema.ts";

// ---- types ----

export interface GenerateJob {
  readonly inPath: string;
  readonly outPath: string;
  readonly engine: RequestEngine;
  /** The cache the engine uses; the output is assembled from it. */
  readonly cache: ResponseCache;
  /** Sampling options for every record. */
  readonly options?: ChatOptions;
  /** System message put first in records that have none. */
  readonly system?: string;
  /** Where to write the accounting JSON. */
  readonly statsPath?: string;
  /** The effective configuration, saved under `config` in the stats file. Must hold no secrets. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Progress display, built once the record count is known. */
  readonly progress?: (total: number) => Progress;
  /** The input, already read with loadGenerateInput (so a caller can check it before opening anything). */
  readonly input?: readonly EngineRequest[];
}

/** How a finished job went: every record ok, some failed, every one failed, or stopped before the end. */
export type GenerateOutcome = "ok" | "some_failed" | "all_failed" | "stopped";

export interface GenerateJobResult {
  readonly stopped: boolean;
  readonly outcome: GenerateOutcome;
  /** Failures served from the cache (recorded by an earlier run; `--retry-failed` requests them again). */
  readonly cachedFailures: number;
  /** Output lines written (0 when stopped). */
  readonly written: number;
  readonly total: number;
  readonly report: AccountingReport;
}

// ---- helpers ----

/** Read and check the input: ids unique; prompts become a single user message; `system` is prepended. */
export async function loadGenerateInput(
  path: string,
  system?: string,
  options: ChatOptions = {},
): Promise<EngineRequest[]> {
  const hint =
    'each line must be {"id": ..., "messages": [{"role": "user", "content": ...}]} or {"id": ..., "prompt": ...}';
  const seen = new Map<string, number>();
  const requests: EngineRequest[] = [];
  for await (const { line, value } of readJsonl(path, GenerateInputSchema, { hint })) {
    const idKey = JSON.stringify(value.id);
    const first = seen.get(idKey);
    if (first !== undefined)
      throw new DataError("duplicate id", {
        path,
        line,
        id: String(value.id),
        expected: "each id once",
        got: `the same id as line ${first}`,
        hint: "give every input line its own id",
      });
    seen.set(idKey, line);
    let messages: ChatMessage[] = "messages" in value ? value.messages : [{ role: "user", content: value.prompt }];
    if (system !== undefined && messages[0]?.role !== "system")
      messages = [{ role: "system", content: system }, ...messages];
    requests.push({ id: value.id, messages, options });
  }
  return requests;
}

// ---- exports ----

export async function runGenerateJob(job: GenerateJob): Promise<GenerateJobResult> {
  const loaded = job.input ?? (await loadGenerateInput(job.inPath, job.system, job.options ?? {}));
  const requests = loaded.map((r) => ({ ...r, key: job.engine.keyOf(r) }));
  const progress = job.progress?.(requests.length);
  const counts = { done: 0, failed: 0 };
  let cachedFailures = 0;
  let summary: Awaited<ReturnType<RequestEngine["run"]>>;
  try {
    summary = await job.engine.run(requests, (outcome) => {
      counts.done++;
      if (!outcome.ok) counts.failed++;
      if (!outcome.ok && outcome.cached) cachedFailures++;
      progress?.update(counts);
    });
  } finally {
    progress?.stop(counts);
  }
  const r = summary.report;
  const outcome: GenerateOutcome = summary.stopped
    ? "stopped"
    : r.failed === 0
      ? "ok"
      : r.failed >= requests.length
        ? "all_failed"
        : "some_failed";
  if (job.statsPath) {
    const stats = {
      outcome,
      ...r,
      cached_failures: cachedFailures,
      ...(job.config ? { config: job.config } : {}),
    };
    await writeFileAtomic(job.statsPath, `${JSON.stringify(stats, null, 2)}\n`);
  }
  if (summary.stopped) return { stopped: true, outcome, cachedFailures, written: 0, total: requests.length, report: r };

  const { cache } = job;
  function* lines(): Generator<GenerateOutput> {
    for (const request of requests) {
      const found = cache.lookup(request.key);
      if (found?.result) {
        const { text, usage, finish, attempts } = found.result;
        yield { id: request.id, text, usage, finish, attempts };
      } else if (found?.failure) yield { id: request.id, error: found.failure };
      else
        yield {
          id: request.id,
          error: { cause: "aborted", message: "no result was recorded for this id; rerun to resume", attempts: 0 },
        };
    }
  }
  const written = await writeJsonlAtomic(job.outPath, lines());
  return { stopped: false, outcome, cachedFailures, written, total: requests.length, report: r };
}
