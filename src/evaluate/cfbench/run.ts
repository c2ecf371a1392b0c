// The CFBench evaluation job: generate a response per record, ask the judge to score every checklist item (a reply
// that does not parse strictly is asked again, up to `rounds` rounds, then read by the fallback parser), score, and
// write responses.jsonl, judgements.jsonl (upstream's judged-record layout, re-scorable by `iopo cfbench score`),
// failures.jsonl and scores.json. Resumable: every round of every request is cached under its own key.

import { join } from "node:path";
import { writeFileAtomic, writeJsonlAtomic } from "../../io/index.ts";
import type { EngineRequest, Failure, RequestEngine } from "../../llm/index.ts";
import { stripThinking } from "../ifeval/index.ts";
import type { ParserKind } from "./parse.ts";
import { parseStrict } from "./parse.ts";
import { cfbenchJudgePrompt, JUDGE_ROUNDS, JUDGE_TEMPERATURE } from "./prompt.ts";
import type { CfbenchRecord, JudgedRecord } from "./schema.ts";
import { type ModelResult, scoreJudged } from "./score.ts";

// ---- types ----

export interface CfbenchEvalOptions {
  readonly records: readonly CfbenchRecord[];
  readonly model: RequestEngine;
  readonly judge: RequestEngine;
  readonly outDir: string;
  /** Parser for replies still rejected after the last round. @default "fixed" */
  readonly parser?: ParserKind;
  /** Judge rounds per sample. @default 10 */
  readonly rounds?: number;
  readonly system?: string;
  /** The model's temperature. @default 0 */
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly judgeMaxTokens?: number;
  readonly stripThinking?: boolean;
  readonly onProgress?: (phase: "generate" | "judge", done: number, total: number) => void;
}

export interface CfbenchRunScores extends ModelResult {
  readonly benchmark: "cfbench";
  readonly model: string;
  readonly judge_model: string;
  readonly parser: ParserKind;
  /** False when the run stopped early or any record failed; the means then cover only `counts.done`. */
  readonly complete: boolean;
  readonly counts: { total: number; done: number; failed: number; pending: number };
  readonly generation_failures: { count: number; ids: number[] };
  readonly fix_changes: { count: number; ids: string[] };
}

export interface CfbenchEvalResult {
  readonly scores: CfbenchRunScores;
  readonly stopped: boolean;
}

// ---- exports ----

export async function runCfbenchEval(o: CfbenchEvalOptions): Promise<CfbenchEvalResult> {
  const parser = o.parser ?? "fixed";
  const rounds = o.rounds ?? JUDGE_ROUNDS;
  const byId = new Map(o.records.map((r) => [String(r.idx), r]));
  // ---- generate ----
  const answers = new Map<string, { raw: string; text: string }>();
  const genFailures = new Map<string, Failure>();
  const gen = await o.model.run(
    o.records.map(
      (r): EngineRequest => ({
        id: String(r.idx),
        messages: [
          ...(o.system ? [{ role: "system" as const, content: o.system }] : []),
          { role: "user", content: r.prompt },
        ],
        options: { temperature: o.temperature ?? 0, ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}) },
      }),
    ),
    (out) => {
      if (out.ok) {
        const raw = out.result.text;
        answers.set(String(out.id), { raw, text: o.stripThinking ? stripThinking(raw) : raw });
      } else genFailures.set(String(out.id), out.error);
      o.onProgress?.("generate", answers.size + genFailures.size, o.records.length);
    },
  );
  await writeJsonlAtomic(
    join(o.outDir, "responses.jsonl"),
    o.records.flatMap((r): unknown[] => {
      const id = String(r.idx);
      if (answers.has(id)) return [{ idx: r.idx, response: answers.get(id)!.raw }];
      if (genFailures.has(id)) return [{ idx: r.idx, error: genFailures.get(id) }];
      return [];
    }),
  );

  // ---- judge, in rounds ----
  const lastReply = new Map<string, { text: string; round: number }>();
  const judgeFailures = new Map<string, Failure>();
  const settled = new Set<string>(); // strictly parsed
  let pending = gen.stopped ? [] : o.records.filter((r) => answers.has(String(r.idx)));
  const toJudge = pending.length;
  let stopped = gen.stopped;
  for (let round = 1; round <= rounds && pending.length > 0 && !stopped; round++) {
    const requests = pending.map((r): EngineRequest => {
      const base: EngineRequest = {
        id: String(r.idx),
        messages: [{ role: "user", content: cfbenchJudgePrompt(r, answers.get(String(r.idx))!.text) }],
        options: { temperature: JUDGE_TEMPERATURE, ...(o.judgeMaxTokens ? { max_tokens: o.judgeMaxTokens } : {}) },
      };
      // Each round is a new question to the judge: its own cache key, so a resumed run replays every round.
      return { ...base, key: `${o.judge.keyOf(base)}#round${round}` };
    });
    const summary = await o.judge.run(requests, (out) => {
      const id = String(out.id);
      if (!out.ok) judgeFailures.set(id, out.error);
      else {
        lastReply.set(id, { text: out.result.text, round });
        const record = byId.get(id)!;
        if (
          parseStrict(
            out.result.text,
            record.criteria.map((c) => c[0]),
          )
        )
          settled.add(id);
      }
      o.onProgress?.("judge", settled.size + judgeFailures.size, toJudge);
    });
    stopped = summary.stopped;
    pending = pending.filter((r) => !settled.has(String(r.idx)) && !judgeFailures.has(String(r.idx)));
  }
  // Records still unsettled after a stop have no final reply yet: they are pending, not read by the fallback.
  const unfinished = new Set(stopped ? pending.map((r) => String(r.idx)) : []);

  // ---- score and write ----
  const judged: JudgedRecord[] = [];
  for (const r of o.records) {
    const id = String(r.idx);
    const reply = lastReply.get(id);
    if (!reply || unfinished.has(id) || judgeFailures.has(id)) continue;
    judged.push({ ...r, response: answers.get(id)!.text, infer_model: o.model.model, judge_response: reply.text });
  }
  const { verdicts, scores } = scoreJudged(judged, parser);
  await writeJsonlAtomic(
    join(o.outDir, "judgements.jsonl"),
    verdicts.map((v, i) => {
      const { judge_score, judge_parsing, judge_metric, failure } = v;
      const rounds = lastReply.get(String(v.idx))!.round;
      return {
        ...judged[i],
        judge_score,
        judge_parsing,
        judge_metric,
        judge_rounds: rounds,
        ...(failure ? { failure } : {}),
      };
    }),
  );
  // Requests that failed outright (after the engine's retries) have no reply to re-score: listed apart.
  await writeJsonlAtomic(
    join(o.outDir, "failures.jsonl"),
    o.records.flatMap((r) => {
      const id = String(r.idx);
      if (genFailures.has(id)) return [{ idx: r.idx, phase: "generate", error: genFailures.get(id) }];
      if (judgeFailures.has(id)) return [{ idx: r.idx, phase: "judge", error: judgeFailures.get(id) }];
      return [];
    }),
  );

  const result = scores.models[o.model.model] ?? emptyResult();
  const failedIds = [...judgeFailures.keys()].map(Number);
  const judgeFailureIds = [...failedIds, ...result.judge_failures.ids].sort((a, b) => a - b);
  const generationIds = [...genFailures.keys()].map(Number).sort((a, b) => a - b);
  const done = result.samples - result.judge_failures.count;
  const failed = judgeFailureIds.length + generationIds.length;
  const runScores: CfbenchRunScores = {
    benchmark: "cfbench",
    model: o.model.model,
    judge_model: o.judge.model,
    parser,
    complete: !stopped && failed === 0 && done === o.records.length,
    counts: { total: o.records.length, done, failed, pending: o.records.length - done - failed },
    ...result,
    judge_failures: { count: judgeFailureIds.length, ids: judgeFailureIds },
    generation_failures: { count: generationIds.length, ids: generationIds },
    fix_changes: scores.fix_changes,
  };
  await writeFileAtomic(join(o.outDir, "scores.json"), `${JSON.stringify(runScores, null, 2)}\n`);
  return { scores: runScores, stopped };
}

function emptyResult(): ModelResult {
  const none = { n: 0, CSR: null, ISR: null, PSR: null };
  return {
    samples: 0,
    easy: none,
    hard: none,
    all: none,
    parsing: { strict: 0, fallback: 0, none: 0 },
    judge_failures: { count: 0, ids: [] },
    breakdowns: { by_split: {}, by_source: {}, by_type: {}, by_subtype: {}, by_priority: {} },
  };
}
