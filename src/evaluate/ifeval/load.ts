// Reading IFEval files: input prompts and responses as JSONL (streamed, zod-validated, `file:line` errors),
// then scoring them with their line numbers so every error names the file, line and key.
// Writing verdicts is the caller's (the CLI uses writeJsonlAtomic).

import { type JsonlRecord, readJsonl, type Skipped } from "../../io/index.ts";
import { type IfevalInput, IfevalInputSchema, type IfevalResponse, IfevalResponseSchema } from "./schema.ts";
import { type ScoreOptions, type ScoreResult, type ScoreSkip, scoreIfeval } from "./score.ts";

async function collect<T>(records: AsyncIterable<JsonlRecord<T>>): Promise<JsonlRecord<T>[]> {
  const out: JsonlRecord<T>[] = [];
  for await (const r of records) out.push(r);
  return out;
}

export interface ScoreFilesOptions {
  readonly stripThinking?: boolean;
  readonly skipInvalid?: boolean;
}

/** Read `inputPath` and `responsesPath` and score them; malformed lines are errors or, with skipInvalid, skips. */
export async function scoreIfevalFiles(
  inputPath: string,
  responsesPath: string,
  options: ScoreFilesOptions = {},
): Promise<ScoreResult> {
  const inSkipped: Skipped[] = [];
  const outSkipped: Skipped[] = [];
  const read = { skipInvalid: options.skipInvalid };
  const inputs = await collect<IfevalInput>(
    readJsonl(inputPath, IfevalInputSchema, {
      ...read,
      skipped: inSkipped,
      hint: "IFEval input lines are {key, prompt, instruction_id_list, kwargs} (input_data.jsonl)",
    }),
  );
  const responses = await collect<IfevalResponse>(
    readJsonl(responsesPath, IfevalResponseSchema, {
      ...read,
      skipped: outSkipped,
      hint: 'response lines are {"prompt": …, "response": …} or {"key": …, "response": …}',
    }),
  );
  const scoreOptions: ScoreOptions = {
    stripThinking: options.stripThinking,
    skipInvalid: options.skipInvalid,
    inputPath,
    responsesPath,
    inputLines: inputs.map((r) => r.line),
    responseLines: responses.map((r) => r.line),
  };
  const result = scoreIfeval(
    inputs.map((r) => r.value),
    responses.map((r) => r.value),
    scoreOptions,
  );
  const lineSkips: ScoreSkip[] = [
    ...inSkipped.map((s) => ({ path: inputPath, line: s.line, message: s.message })),
    ...outSkipped.map((s) => ({ path: responsesPath, line: s.line, message: s.message })),
  ];
  return { ...result, skipped: [...lineSkips, ...result.skipped] };
}
