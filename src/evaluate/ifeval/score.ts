// IFEval scoring: match responses to prompts, run every instruction's checker strictly (the raw response) and
// loosely (passes on any of 8 variants: first/last line removed, markdown `*` removed), and aggregate prompt-,
// instruction-, per-id and per-group accuracy exactly as google-research's evaluation_lib does.
// Pure over in-memory records; reading files is load.ts.

import {
  checkInstruction,
  type InstructionDef,
  isInstructionId,
  parseInstruction,
  pyStrip,
} from "../../checks/ifeval/index.ts";
import { DataError } from "../../errors.ts";
import type { Accuracy, IfevalInput, IfevalResponse, IfevalSummary, IfevalVerdict } from "./schema.ts";

// ---- types ----

export interface ScoreOptions {
  /** Remove `<think>…</think>` reasoning before checking. */
  readonly stripThinking?: boolean;
  /** Skip (and count) prompts with bad instructions or no response, and responses with no prompt. */
  readonly skipInvalid?: boolean;
  /** For error messages: file names and 1-based line numbers of the records. */
  readonly inputPath?: string;
  readonly inputLines?: readonly number[];
  readonly responsesPath?: string;
  readonly responseLines?: readonly number[];
}

export interface ScoreSkip {
  readonly path?: string;
  readonly line: number;
  readonly key?: string | number;
  readonly message: string;
}

export interface ScoreResult {
  readonly verdicts: IfevalVerdict[];
  readonly summary: IfevalSummary;
  readonly skipped: ScoreSkip[];
}

// ---- helpers ----

const THINK_BLOCK = /<think>[\s\S]*?<\/think>/g;

/** Remove reasoning: closed `<think>` blocks, and anything before a stray `</think>` (template-opened). */
export function stripThinking(response: string): string {
  let out = response.replace(THINK_BLOCK, "");
  const close = out.lastIndexOf("</think>");
  if (close >= 0) out = out.slice(close + "</think>".length);
  return out.replace(/^\s+/, "");
}

/** The 8 loose variants of evaluation_lib.test_instruction_following_loose, in its order. */
export function looseVariants(response: string): string[] {
  const lines = response.split("\n");
  const first = pyStrip(lines.slice(1).join("\n"));
  const last = pyStrip(lines.slice(0, -1).join("\n"));
  const both = pyStrip(lines.slice(1, -1).join("\n"));
  const star = (s: string) => s.replaceAll("*", "");
  return [response, star(response), first, last, both, star(first), star(last), star(both)];
}

function follows(response: string, def: InstructionDef): boolean {
  return pyStrip(response) !== "" && checkInstruction(response, def).ok;
}

function acc(correct: number, total: number): Accuracy {
  // Over zero items there is no accuracy (null, printed "-"), never 0.
  return { correct, total, accuracy: total === 0 ? null : correct / total };
}

type Tally = Map<string, { strict: number; loose: number; total: number }>;

function tally(map: Tally, id: string, strict: boolean, loose: boolean): void {
  const t = map.get(id) ?? { strict: 0, loose: 0, total: 0 };
  t.total++;
  if (strict) t.strict++;
  if (loose) t.loose++;
  map.set(id, t);
}

function table(map: Tally): Record<string, { strict: Accuracy; loose: Accuracy }> {
  const out: Record<string, { strict: Accuracy; loose: Accuracy }> = {};
  for (const id of [...map.keys()].sort()) {
    const t = map.get(id)!;
    out[id] = { strict: acc(t.strict, t.total), loose: acc(t.loose, t.total) };
  }
  return out;
}

/** Aggregate verdict lines into the four accuracies and the per-id / per-group tables. */
export function summarize(verdicts: readonly IfevalVerdict[]): IfevalSummary {
  let ps = 0;
  let pl = 0;
  let is = 0;
  let il = 0;
  let total = 0;
  const perId: Tally = new Map();
  const perGroup: Tally = new Map();
  for (const v of verdicts) {
    if (v.follow_instruction_list_strict.every(Boolean)) ps++;
    if (v.follow_instruction_list_loose.every(Boolean)) pl++;
    v.instruction_id_list.forEach((id, i) => {
      const s = v.follow_instruction_list_strict[i]!;
      const l = v.follow_instruction_list_loose[i]!;
      total++;
      if (s) is++;
      if (l) il++;
      tally(perId, id, s, l);
      tally(perGroup, id.split(":")[0]!, s, l);
    });
  }
  return {
    prompt_strict: acc(ps, verdicts.length),
    instruction_strict: acc(is, total),
    prompt_loose: acc(pl, verdicts.length),
    instruction_loose: acc(il, total),
    per_instruction: table(perId),
    per_group: table(perGroup),
  };
}

// ---- exports ----

/** Score one response against one input's instructions: [strict verdicts, loose verdicts]. */
export function scoreOne(response: string, defs: readonly InstructionDef[]): [boolean[], boolean[]] {
  const variants = looseVariants(response);
  return [defs.map((d) => follows(response, d)), defs.map((d) => variants.some((r) => follows(r, d)))];
}

/**
 * Score IFEval responses. Responses match inputs by `key` when they carry one, else by prompt text (as the
 * official code does; a later duplicate prompt wins). Verdicts come out in input order.
 */
export function scoreIfeval(
  inputs: readonly IfevalInput[],
  responses: readonly IfevalResponse[],
  options: ScoreOptions = {},
): ScoreResult {
  const skipped: ScoreSkip[] = [];
  const inLine = (i: number) => options.inputLines?.[i] ?? i + 1;
  const outLine = (i: number) => options.responseLines?.[i] ?? i + 1;
  const problem = (
    path: string | undefined,
    line: number,
    key: string | number | undefined,
    message: string,
    hint: string,
  ) => {
    if (!options.skipInvalid)
      throw new DataError(message, { path, line, id: key === undefined ? undefined : String(key), hint });
    skipped.push({ path, line, key, message });
  };
  const byKey = new Map(inputs.map((inp) => [String(inp.key), inp]));
  const byPrompt = new Map(inputs.map((inp) => [inp.prompt, inp]));
  const responseFor = new Map<IfevalInput, string>();
  responses.forEach((r, i) => {
    const inp = r.key !== undefined ? byKey.get(String(r.key)) : byPrompt.get(r.prompt!);
    if (inp) responseFor.set(inp, options.stripThinking ? stripThinking(r.response) : r.response);
    else
      problem(
        options.responsesPath,
        outLine(i),
        r.key,
        r.key !== undefined ? "response key matches no input" : "response prompt matches no input prompt",
        "responses must answer the prompts of the --input file (same prompt text, or a `key` field)",
      );
  });
  const verdicts: IfevalVerdict[] = [];
  inputs.forEach((inp, i) => {
    const defs = definitions(inp, (msg, hint) => problem(options.inputPath, inLine(i), inp.key, msg, hint));
    if (!defs) return;
    const response = responseFor.get(inp);
    if (response === undefined) {
      problem(
        options.inputPath,
        inLine(i),
        inp.key,
        "no response for this prompt",
        "generate a response for every input line, or pass --skip-invalid",
      );
      return;
    }
    let strict: boolean[];
    let loose: boolean[];
    try {
      [strict, loose] = scoreOne(response, defs);
    } catch (err) {
      if (!(err instanceof DataError)) throw err;
      problem(options.inputPath, inLine(i), inp.key, err.message, "fix the instruction's kwargs");
      return;
    }
    verdicts.push({
      key: inp.key,
      instruction_id_list: inp.instruction_id_list,
      follow_instruction_list_strict: strict,
      follow_instruction_list_loose: loose,
    });
  });
  return { verdicts, summary: summarize(verdicts), skipped };
}

/** Validate one input's instruction ids and kwargs into checker defs; reports a problem and returns undefined. */
function definitions(inp: IfevalInput, report: (message: string, hint: string) => void): InstructionDef[] | undefined {
  const defs: InstructionDef[] = [];
  for (const [j, id] of inp.instruction_id_list.entries()) {
    if (!isInstructionId(id)) {
      report(
        `unknown instruction id ${JSON.stringify(id)} (instruction_id_list.${j})`,
        "use one of the 25 IFEval instruction ids; see docs/ifeval.md",
      );
      return undefined;
    }
    const parsed = parseInstruction(id, inp.kwargs[j]!);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join(".") || "kwargs";
      report(
        `bad kwargs for ${id} (kwargs.${j}.${field}): ${issue.message}`,
        "give every kwarg the official checker needs; see docs/ifeval.md",
      );
      return undefined;
    }
    defs.push(parsed.def);
  }
  return defs;
}
