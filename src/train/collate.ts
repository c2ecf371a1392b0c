// Collation: training records (IOPO groups, DPO pairs, SFT examples, in any supported file format) → token
// sequences in SEQUENCE_ORDER, prompts in the TRACE layout through the model's chat template, labels on the
// response plus EOS, truncated as the authors' code does (both prompts to one source length, both responses to one
// target length) and counted. Does not pad or build feeds (program.ts does).

import { DataError } from "../errors.ts";
import {
  coerce,
  detectFormat,
  FORMATS,
  type FormatName,
  getFormat,
  type Item,
  renderTracePrompt,
} from "../io/index.ts";
import type { ModelTokenizer, ScoredSequence } from "../model/index.ts";
import { LOSSES, type LossName, type RecordKind } from "./losses.ts";

// ---- types ----

/** One record's texts: distinct prompts and responses, and which (prompt, response) pair each sequence is. */
export interface RecordTexts {
  readonly id: string;
  readonly line: number;
  readonly prompts: readonly string[];
  readonly responses: readonly string[];
  /** [prompt index, response index] per sequence, in SEQUENCE_ORDER[kind]. */
  readonly pairs: readonly (readonly [number, number])[];
}

/** Token ids of prompts (chat-templated, with the generation prompt) and responses (with EOS). */
export interface Encoder {
  prompt(text: string): number[];
  response(text: string): number[];
}

/** A record ready for the model: its sequences in SEQUENCE_ORDER and the response tokens of each. */
export interface TokenizedRecord {
  readonly id: string;
  readonly line: number;
  readonly seqs: readonly ScoredSequence[];
  readonly truncated: boolean;
}

export interface TruncationReport {
  readonly records: number;
  /** Records with at least one prompt or response cut. */
  readonly truncated: number;
  readonly promptTokensCut: number;
  readonly responseTokensCut: number;
  /** Longest sequence (prompt + response tokens) after truncation. */
  readonly longest: number;
}

// ---- helpers ----

/** The layout of each record kind: (prompt, response) index pairs in SEQUENCE_ORDER. */
export const PAIRS: Record<RecordKind, readonly (readonly [number, number])[]> = {
  group: [
    [0, 0], // (x1, y1)
    [0, 1], // (x1, y2)
    [1, 1], // (x2, y2)
    [1, 0], // (x2, y1)
  ],
  pair: [
    [0, 0], // (x, chosen)
    [0, 1], // (x, rejected)
  ],
  example: [[0, 0]],
};

function textsOf(item: Item): Omit<RecordTexts, "pairs" | "line"> {
  switch (item.kind) {
    case "group": {
      const g = item.value;
      return { id: g.id, prompts: [renderTracePrompt(g.x1), renderTracePrompt(g.x2)], responses: [g.y1, g.y2] };
    }
    case "pair": {
      const p = item.value;
      return { id: p.id, prompts: [renderTracePrompt(p.instruction)], responses: [p.chosen, p.rejected] };
    }
    case "example":
      return {
        id: item.value.id,
        prompts: [renderTracePrompt(item.value.instruction)],
        responses: [item.value.response],
      };
    case "instruction":
      throw new DataError("an instruction without a response cannot be trained on", {
        id: item.value.id,
        line: item.line,
      });
  }
}

/** SFT* (`sft-star`): an IOPO group gives the two examples (x1, y1) and (x2, y2). */
function starExamples(item: Item): Item[] {
  if (item.kind !== "group") return [item];
  const g = item.value;
  const { line } = item;
  return [
    { kind: "example", line, value: { id: `${g.id}#x1`, instruction: g.x1, response: g.y1 } },
    { kind: "example", line, value: { id: `${g.id}#x2`, instruction: g.x2, response: g.y2 } },
  ];
}

/** The paper's baselines keep their names apart: groups train IOPO, DPO* and SFT*; DPO and SFT train their own data. */
function groupRefused(method: LossName, path: string, line: number): DataError {
  const star = LOSSES[method].kind === "pair" ? "dpo-star" : "sft-star";
  return new DataError(`--method ${method} trains on ${LOSSES[method].kind}s, and this file holds IOPO groups`, {
    path,
    line,
    expected: `${LOSSES[method].kind} records`,
    got: "an IOPO group (x1, y1, x2, y2)",
    hint:
      method === "sft"
        ? "use --method sft-star to train on each group's (x1, y1) and (x2, y2) (the paper's SFT*), or pass SFT examples"
        : `use --method ${star === "dpo-star" ? "dpo-star (the group as two pairs, the paper's token-matched DPO*)" : star}, or pass the pairs file that \`iopo construct groups\` writes (dpo_pairs.jsonl: rejected answers generated separately, the paper's DPO)`,
  });
}

// ---- exports ----

/**
 * The authors' (LLaMA-Factory's) split of a cutoff between source and target: responses keep up to the whole cutoff
 * when short, prompts keep what is left; otherwise the cutoff is shared in proportion to the two lengths.
 */
export function inferMaxLen(source: number, target: number, cutoff: number): [number, number] {
  let maxTarget: number;
  if (target * 2 < cutoff) maxTarget = cutoff;
  else if (source * 2 < cutoff) maxTarget = cutoff - source;
  else maxTarget = Math.floor(cutoff * (target / (source + target)));
  const newTarget = Math.min(maxTarget, target);
  const newSource = Math.min(Math.max(cutoff - newTarget, 0), source);
  return [newSource, newTarget];
}

/** The encoder of a model: the user turn through the chat template (or the plain layout), responses + EOS. */
export function chatEncoder(tok: ModelTokenizer, eosId: number): Encoder {
  return {
    prompt: (text) => tok.encodeChat([{ role: "user", content: text }], { addGenerationPrompt: true }),
    response: (text) => [...tok.encode(text), eosId],
  };
}

/**
 * Read a training file (format given or detected) as RecordTexts of the method's record kind: sft-star splits each
 * group into its two preferred examples; pairs read for SFT keep the chosen answer; other kinds are refused.
 */
export async function loadRecords(path: string, method: LossName, format?: string): Promise<RecordTexts[]> {
  if (format) getFormat(format); // throws listing the valid names
  const name: FormatName = format ? (format as FormatName) : await detectFormat(path);
  const { kind, reads } = LOSSES[method];
  const out: RecordTexts[] = [];
  for await (const raw of FORMATS[name].read(path, {})) {
    if (raw.kind === "group" && reads !== "group") throw groupRefused(method, path, raw.line);
    const items = reads === "group" && kind === "example" ? starExamples(raw) : [raw];
    for (const item of items) out.push({ ...textsOf(coerce(item, [kind], path)), line: item.line, pairs: PAIRS[kind] });
  }
  if (out.length === 0)
    throw new DataError("no training records", { path, expected: `at least one ${kind} record`, hint: "check --data" });
  return out;
}

/** Records from ids directly (tests, `iopo logps`-style inputs): prompts and responses already tokenized. */
export function tokenizedFromIds(
  id: string,
  kind: RecordKind,
  prompts: readonly (readonly number[])[],
  responses: readonly (readonly number[])[],
): TokenizedRecord {
  const seqs = PAIRS[kind].map(([p, r]) => ({ prompt: [...prompts[p]!], response: [...responses[r]!] }));
  return { id, line: 0, seqs, truncated: false };
}

/**
 * Tokenize and truncate records: per record, all prompts are cut to one source length and all responses to one
 * target length (prompt heads and response heads are kept, as the authors' code does); `maxLen` bounds every
 * sequence. Returns the records and the truncation counts (reported at the start of a run, never silent).
 */
export function tokenizeRecords(
  records: readonly RecordTexts[],
  enc: Encoder,
  maxLen: number,
  path?: string,
): { records: TokenizedRecord[]; report: TruncationReport } {
  return truncateRecords(
    records.map((r) => ({
      id: r.id,
      line: r.line,
      pairs: r.pairs,
      prompts: r.prompts.map((t) => enc.prompt(t)),
      responses: r.responses.map((t) => enc.response(t)),
    })),
    maxLen,
    path,
  );
}

/** Token-id records before truncation: distinct prompts and responses and the sequence layout. */
export interface IdRecord {
  readonly id: string;
  readonly line: number;
  readonly prompts: readonly (readonly number[])[];
  readonly responses: readonly (readonly number[])[];
  readonly pairs: readonly (readonly [number, number])[];
}

/**
 * Truncate token-id records to `maxLen` as the authors do (see tokenizeRecords) and count what was cut; `path` (the
 * data file) is named in errors with each record's line.
 */
export function truncateRecords(
  records: readonly IdRecord[],
  maxLen: number,
  path?: string,
): { records: TokenizedRecord[]; report: TruncationReport } {
  let truncated = 0;
  let promptCut = 0;
  let responseCut = 0;
  let longest = 0;
  const out = records.map((r) => {
    const [src, tgt] = inferMaxLen(
      Math.max(...r.prompts.map((p) => p.length)),
      Math.max(...r.responses.map((x) => x.length)),
      maxLen,
    );
    let cut = false;
    const ps = r.prompts.map((p) => {
      promptCut += Math.max(0, p.length - src);
      cut ||= p.length > src;
      return p.slice(0, src);
    });
    const rs = r.responses.map((x) => {
      responseCut += Math.max(0, x.length - tgt);
      cut ||= x.length > tgt;
      return x.slice(0, tgt);
    });
    if (cut) truncated++;
    const seqs = r.pairs.map(([p, x]) => ({ prompt: ps[p]!, response: rs[x]! }));
    for (const s of seqs) longest = Math.max(longest, s.prompt.length + s.response.length);
    if (seqs.some((s) => s.response.length === 0 || s.prompt.length === 0))
      throw new DataError("a sequence has no prompt or no response tokens left after truncation", {
        path,
        line: r.line,
        id: r.id,
        expected: `prompt and response tokens within --max-len ${maxLen}`,
        hint: "raise --max-len",
      });
    return { id: r.id, line: r.line, seqs, truncated: cut };
  });
  return {
    records: out,
    report: { records: out.length, truncated, promptTokensCut: promptCut, responseTokensCut: responseCut, longest },
  };
}

/** Response tokens of a sequence (the scored ones). */
export const responseTokens = (s: ScoredSequence): number => s.response.length;
