// The TRACE evaluation job: generate a response per item, judge every constraint (the authors' protocol by default,
// or this project's per-constraint prompt), score (IF-S / IF-M …), and write responses.jsonl, judgments.jsonl and
// scores.json (with the protocol and whether the run is complete). Resumable through the engines' caches.

import { join } from "node:path";
import { renderTracePrompt, writeFileAtomic, writeJsonlAtomic } from "../../io/index.ts";
import { type EngineOutcome, type EngineRequest, InvalidReply, type RequestEngine } from "../../llm/index.ts";
import type { Instruction, Taxonomy } from "../../schema/index.ts";
import { stripThinking } from "../ifeval/index.ts";
import { authorsJudgeMessages, parseAuthorsReply } from "./authors.ts";
import { judgePrompt, parseJudgeReply } from "./judge.ts";
import { type Judged, type TraceScores, traceScores } from "./metrics.ts";

// ---- types ----

/** `authors`: the released protocol (fine-grained JSON line + overall score); `per-constraint`: this project's. */
export const JUDGE_PROTOCOLS = ["authors", "per-constraint"] as const;
export type JudgeProtocol = (typeof JUDGE_PROTOCOLS)[number];

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
  /** Judge protocol. @default "authors" */
  readonly protocol?: JudgeProtocol;
  /** The taxonomy of the per-dimension breakdown (a user's, `--taxonomy`). @default the built-in 26 dimensions */
  readonly taxonomy?: Taxonomy;
  /** Remove `<think>…</think>` before judging. */
  readonly stripThinking?: boolean;
  /** Called with (phase, done, total) as records finish. */
  readonly onProgress?: (phase: "generate" | "judge", done: number, total: number) => void;
}

export interface TraceRunScores extends TraceScores {
  readonly benchmark: "trace";
  /** The model under test and the judge, as their servers name them. */
  readonly model: string;
  readonly judge_model: string;
  readonly judge_protocol: JudgeProtocol;
  /** False when the run stopped early or any item failed; the accuracies then cover only `counts.done`. */
  readonly complete: boolean;
  readonly counts: { total: number; done: number; failed: number; pending: number };
  readonly generation_failures: { count: number; ids: string[] };
}

export interface TraceEvalResult {
  readonly scores: TraceRunScores;
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
  const protocol = o.protocol ?? "authors";
  const judgeRequests: EngineRequest[] = gen.stopped
    ? []
    : [...judged.values()].map((item) => ({
        id: item.id,
        messages:
          protocol === "authors"
            ? authorsJudgeMessages(item, answers.get(item.id)!)
            : [{ role: "user", content: judgePrompt(item, answers.get(item.id)!) }],
        options: {
          temperature: o.judgeTemperature ?? 0,
          ...(o.judgeMaxTokens ? { max_tokens: o.judgeMaxTokens } : {}),
        },
      }));
  // A reply that does not parse throws InvalidReply: the engine asks again, then records a judge failure.
  const judgeRun = await runAll<{ scores: number[]; overall?: number | null }>(
    o.judge,
    judgeRequests,
    (text, request) => {
      const count = judged.get(String(request.id))!.constraints.length;
      if (protocol === "authors") {
        const r = parseAuthorsReply(text, count);
        if (!r.ok) throw new InvalidReply(`judge reply ${r.reason}: ${r.detail}`);
        return { scores: r.scores, overall: r.overall };
      }
      const r = parseJudgeReply(text, count);
      if (!r.ok) throw new InvalidReply(`judge reply ${r.reason}: ${r.detail}`);
      return { scores: r.scores };
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
    judgments.push({ id: item.id, reply: out.result.text, ...out.value, attempts: out.attempts });
    rows.push({ instruction: item, ...out.value });
  }
  await writeJsonlAtomic(join(o.outDir, "judgments.jsonl"), judgments);
  const generationFailures = o.items.filter((item) => gen.outcomes.get(item.id)?.ok === false).map((item) => item.id);
  const stopped = gen.stopped || judgeRun.stopped;
  const traced = traceScores(rows, o.taxonomy);
  const failed = generationFailures.length + traced.judge_failures.count;
  const scores: TraceRunScores = {
    benchmark: "trace",
    model: o.model.model,
    judge_model: o.judge.model,
    judge_protocol: protocol,
    complete: !stopped && failed === 0 && traced.judged === o.items.length,
    counts: { total: o.items.length, done: traced.judged, failed, pending: o.items.length - traced.judged - failed },
    ...traced,
    generation_failures: { count: generationFailures.length, ids: generationFailures },
  };
  await writeFileAtomic(join(o.outDir, "scores.json"), `${JSON.stringify(scores, null, 2)}\n`);
  return { scores, stopped };
}
