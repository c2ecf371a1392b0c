// The IFEval evaluation job: generate a response per prompt through a request engine, then score with the
// IFEval checkers; writes responses.jsonl (official {prompt, response}), verdicts.jsonl and scores.json.

import { join } from "node:path";
import { writeFileAtomic, writeJsonlAtomic } from "../../io/index.ts";
import type { EngineRequest, Failure, RequestEngine } from "../../llm/index.ts";
import type { IfevalInput, IfevalResponse, IfevalSummary } from "./schema.ts";
import { scoreIfeval } from "./score.ts";

export interface IfevalEvalOptions {
  readonly inputs: readonly IfevalInput[];
  readonly model: RequestEngine;
  readonly outDir: string;
  readonly system?: string;
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly stripThinking?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface IfevalRunSummary extends IfevalSummary {
  /** The model under test, as its server names it. */
  readonly model: string;
  /** False when the run stopped early or any prompt failed; the accuracies then cover only `counts.done`. */
  readonly complete: boolean;
  readonly counts: { total: number; done: number; failed: number; pending: number };
  readonly generation_failures: { count: number; keys: (string | number)[] };
}

export interface IfevalEvalResult {
  readonly summary: IfevalRunSummary;
  readonly stopped: boolean;
}

/** Generate, score, write. Prompts whose generation failed are reported, not scored. */
export async function runIfevalEval(o: IfevalEvalOptions): Promise<IfevalEvalResult> {
  const requests: EngineRequest[] = o.inputs.map((inp) => ({
    id: String(inp.key),
    messages: [
      ...(o.system ? [{ role: "system" as const, content: o.system }] : []),
      { role: "user", content: inp.prompt },
    ],
    options: { temperature: o.temperature ?? 0, ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}) },
  }));
  const texts = new Map<string, string>();
  const failures = new Map<string, Failure>();
  const summary = await o.model.run(requests, (out) => {
    if (out.ok) texts.set(String(out.id), out.result.text);
    else failures.set(String(out.id), out.error);
    o.onProgress?.(texts.size + failures.size, requests.length);
  });
  const answered = o.inputs.filter((inp) => texts.has(String(inp.key)));
  const responses: IfevalResponse[] = answered.map((inp) => ({
    prompt: inp.prompt,
    response: texts.get(String(inp.key))!,
  }));
  await writeJsonlAtomic(join(o.outDir, "responses.jsonl"), [
    ...responses,
    ...o.inputs
      .filter((inp) => failures.has(String(inp.key)))
      .map((inp) => ({ key: inp.key, error: failures.get(String(inp.key)) })),
  ]);
  const scored = scoreIfeval(answered, responses, { stripThinking: o.stripThinking });
  await writeJsonlAtomic(join(o.outDir, "verdicts.jsonl"), scored.verdicts);
  const failedKeys = o.inputs.filter((inp) => failures.has(String(inp.key))).map((inp) => inp.key);
  const done = answered.length;
  const result: IfevalRunSummary = {
    model: o.model.model,
    complete: !summary.stopped && failedKeys.length === 0 && done === o.inputs.length,
    counts: {
      total: o.inputs.length,
      done,
      failed: failedKeys.length,
      pending: o.inputs.length - done - failedKeys.length,
    },
    ...scored.summary,
    generation_failures: { count: failedKeys.length, keys: failedKeys },
  };
  await writeFileAtomic(
    join(o.outDir, "scores.json"),
    `${JSON.stringify({ benchmark: "ifeval", ...result }, null, 2)}\n`,
  );
  return { summary: result, stopped: summary.stopped };
}
