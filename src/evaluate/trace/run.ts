// The TRACE evaluation job: generate a response per item, judge every constraint, score (IF-S / IF-M …),
// and write responses.jsonl, judgments.jsonl and scores.json. Resumable through the engines' caches.

import { join } from "node:path";
import { renderTracePrompt, writeFileAtomic, writeJsonlAtomic } from "../../io/index.ts";
import { type EngineOutcome, type EngineRequest, InvalidReply, type RequestEngine } from "../../llm/index.ts";
import type { Instruction } from "../../schema/index.ts";
import { stripThinking } from "../ifeval/index.ts";
import { judgePrompt, parseJudgeReply } from "./judge.ts";
import { type Judged, type TraceScores, traceScores } from "./metrics.ts";

// ---- types ----

export interface TraceEvalOptions {
  readonly items: readonly Instruction[];
  /** The model under test. */
  readonly model: RequestEngine;
  /** The judge. */
  readonly judge: RequestEngine;
  readonly outDir: string;
  /** System prompt for the model; the authors' evaluation uses "You are a helpful assistant.". */
  readonly system?: string;
  /** Sampling temperature of the model (0.1 as the authors' script). */
  readonly temperature?: number;
  readonly maxTokens?: number;
  /** Judge temperature (0). */
  readonly judgeTemperature?: number;
  readonly judgeMaxTokens?: number;
  /** Remove `<think>…</think>` before judging. */
  readonly stripThinking?: boolean;
  /** Called with (phase, done, total) as records finish. */
  readonly onProgress?: (phase: "generate" | "judge", done: number, total: number) => void;
}

export interface TraceEvalResult {
  readonly scores: TraceScores & { generation_failures: { count: number; ids: string[] } };
  /** True when the run was stopped before every record finished (the files then hold what finished). */
  readonly stopped: boolean;
}

export const DEFAULT_SYSTEM = "You are a helpful assistant.";

// ---- helpers ----

async function runAll<T>(
  engine: RequestEngine,
  requests: EngineRequest[],
  parse: ((text: string, request: EngineRequest) => T) | undefined,
  onDone: (n: number) => void,
): Promise<{ outcomes: Map<string, EngineOutcome<T>>; stopped: boolean }> {
  const outcomes = new Map<string, EngineOutcome<T>>();
  const summary = await engine.run<T>(
    requests,
    (o) => {
      outcomes.set(String(o.id), o);
      onDone(outcomes.size);
    },
    parse,
  );
  return { outcomes, stopped: summary.stopped };
}

// ---- exports ----

/** Run generate → judge → score over `items`, writing the three files into `outDir`. */
export async function runTraceEval(o: TraceEvalOptions): Promise<TraceEvalResult> {
  const system = o.system ?? DEFAULT_SYSTEM;
  const genRequests: EngineRequest[] = o.items.map((item) => ({
    id: item.id,
    messages: [
      { role: "system", content: system },
      { role: "user", content: renderTracePrompt(item) },
    ],
    options: { temperature: o.temperature ?? 0.1, ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}) },
  }));
  const gen = await runAll<string>(o.model, genRequests, undefined, (n) =>
    o.onProgress?.("generate", n, o.items.length),
  );
  // The text the judge sees, once per answered item (after <think> stripping when asked).
  const answers = new Map<string, string>();
  for (const [id, out] of gen.outcomes) {
    if (out.ok) answers.set(id, o.stripThinking ? stripThinking(out.result.text) : out.result.text);
  }
  await writeJsonlAtomic(
    join(o.outDir, "responses.jsonl"),
    o.items.flatMap((item): unknown[] => {
      const out = gen.outcomes.get(item.id);
      if (!out) return [];
      if (!out.ok) return [{ id: item.id, error: out.error }];
      return [
        {
          id: item.id,
          response: out.result.text,
          usage: out.result.usage,
          finish: out.result.finish,
          attempts: out.attempts,
        },
      ];
    }),
  );

  // The judge sees only items with a response; a reply that does not validate is retried, then a failure.
  const judged = new Map(o.items.filter((item) => answers.has(item.id)).map((item) => [item.id, item]));
  const judgeRequests: EngineRequest[] = gen.stopped
    ? []
    : [...judged.values()].map((item) => ({
        id: item.id,
        messages: [{ role: "user", content: judgePrompt(item, answers.get(item.id)!) }],
        options: {
          temperature: o.judgeTemperature ?? 0,
          ...(o.judgeMaxTokens ? { max_tokens: o.judgeMaxTokens } : {}),
        },
      }));
  const judgeRun = await runAll<number[]>(
    o.judge,
    judgeRequests,
    (text, request) => {
      const r = parseJudgeReply(text, judged.get(String(request.id))!.constraints.length);
      if (!r.ok) throw new InvalidReply(`judge reply ${r.reason}: ${r.detail}`);
      return r.scores;
    },
    (n) => o.onProgress?.("judge", n, judgeRequests.length),
  );

  const rows: Judged[] = [];
  const judgments: unknown[] = [];
  for (const item of judged.values()) {
    const out = judgeRun.outcomes.get(item.id);
    if (!out) continue;
    if (!out.ok) {
      judgments.push({ id: item.id, error: out.error });
      rows.push({ instruction: item, scores: null });
      continue;
    }
    judgments.push({ id: item.id, reply: out.result.text, scores: out.value, attempts: out.attempts });
    rows.push({ instruction: item, scores: out.value });
  }
  await writeJsonlAtomic(join(o.outDir, "judgments.jsonl"), judgments);
  const generationFailures = o.items.filter((item) => gen.outcomes.get(item.id)?.ok === false).map((item) => item.id);
  const scores = {
    ...traceScores(rows),
    generation_failures: { count: generationFailures.length, ids: generationFailures },
  };
  await writeFileAtomic(
    join(o.outDir, "scores.json"),
    `${JSON.stringify({ benchmark: "trace", ...scores }, null, 2)}\n`,
  );
  return { scores, stopped: gen.stopped || judgeRun.stopped };
}
