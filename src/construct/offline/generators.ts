// Parametric constraint generators for the offline world: one per rule form, each drawing params from a
// seeded Rng and writing the constraint's English text. Set sampling keeps sets free of static conflicts.

import {
  boundConflicts,
  conflictsAt,
  KIND_DIMENSION,
  type Relation,
  RULE_KINDS,
  type RuleKind,
  type RuleSpec,
  toCheckSpec,
} from "../../checks/rules/index.ts";
import type { Constraint } from "../../schema/index.ts";
import type { Rng } from "./rng.ts";
import {
  ADJECTIVES,
  END_PHRASES,
  EXACT_KEYWORDS,
  HEADING_TITLES,
  JSON_KEYS,
  NOUNS,
  RESERVED,
  SOURCES,
  START_PHRASES,
  TABLE_COLUMNS,
  type Topic,
  VERBS,
} from "./vocab.ts";

// ---- types ----

/**
 * Where keyword constraints (`include_keywords`, `keyword_frequency`) take their words: `topic` — the topic's nouns
 * (a model can guess them from the topic); `invented` — made-up pronounceable words drawn independently of the topic
 * (the only way to predict them is to copy them from the prompt).
 */
export type KeywordPool = "topic" | "invented";
export const KEYWORD_POOLS = ["topic", "invented"] as const;

export interface GenContext {
  readonly topic: Topic;
  /** Where keyword constraints take their words. @default "topic" */
  readonly keywords?: KeywordPool;
  /** Multiplies how often the two keyword forms are drawn (more copying to learn from). @default 1 */
  readonly keywordWeight?: number;
  /** Words to prefer when forbidding (e.g. the words of a response that should stop complying). */
  readonly prefer?: readonly string[];
  /** The forms to draw from (a user taxonomy's); all when absent. */
  readonly kinds?: readonly RuleKind[];
}

// ---- helpers ----

const q = (s: string) => `"${s}"`;
function list(items: readonly string[], join = "and"): string {
  const quoted = items.map(q);
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(", ")} ${join} ${quoted.at(-1)}`;
}

const RANGES: Record<
  "word_count" | "sentence_count" | "paragraph_count" | "item_count",
  Record<Relation, [number, number]>
> = {
  word_count: { exactly: [30, 180], at_least: [30, 150], at_most: [60, 300] },
  sentence_count: { exactly: [3, 12], at_least: [2, 8], at_most: [6, 20] },
  paragraph_count: { exactly: [1, 5], at_least: [1, 4], at_most: [2, 6] },
  item_count: { exactly: [2, 7], at_least: [2, 5], at_most: [4, 10] },
};
const NOUN_OF = {
  word_count: "words",
  sentence_count: "sentences",
  paragraph_count: "paragraphs",
  item_count: "list items",
};

function counted(rng: Rng, kind: keyof typeof RANGES): RuleSpec {
  const relation = rng.pick(["exactly", "at_least", "at_most"] as const);
  const [lo, hi] = RANGES[kind][relation];
  return { kind, params: { relation, n: rng.int(lo, hi) } } as RuleSpec;
}

const ONSETS = [
  "b",
  "d",
  "f",
  "g",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "t",
  "v",
  "z",
  "br",
  "dr",
  "gl",
  "pr",
  "st",
  "tr",
];
const VOWELS = ["a", "e", "i", "o", "u"];
const CODAS = ["n", "r", "l", "s", "m", "k"];

/** A made-up pronounceable lowercase word of 2–3 syllables (e.g. "tovarin"): never a word of the world's lexicon. */
export function inventWord(rng: Rng): string {
  let w = "";
  for (let k = rng.int(2, 3); k > 0; k--)
    w += rng.pick(ONSETS) + rng.pick(VOWELS) + (rng.chance(0.3) ? rng.pick(CODAS) : "");
  return w;
}

/** `k` distinct keywords from the context's pool. */
function keywords(rng: Rng, ctx: GenContext, k: number): string[] {
  if (ctx.keywords !== "invented") return rng.sample(ctx.topic.nouns, k);
  const out: string[] = [];
  while (out.length < k) {
    const w = inventWord(rng);
    if (!out.includes(w) && !RESERVED.has(w)) out.push(w);
  }
  return out;
}

function forbiddable(ctx: GenContext): string[] {
  const pool = ctx.prefer?.length ? ctx.prefer : [...ctx.topic.nouns, ...ADJECTIVES, ...VERBS, ...NOUNS];
  return pool.filter((w) => /^[a-z]{3,}$/.test(w) && !RESERVED.has(w));
}

/** Spec generators by kind; params drawn from the context. */
const GENERATE: { [K in RuleKind]: (rng: Rng, ctx: GenContext) => Extract<RuleSpec, { kind: K }> } = {
  include_keywords: (rng, ctx) => ({
    kind: "include_keywords",
    params: { words: rng.chance(0.12) ? [rng.pick(EXACT_KEYWORDS)] : keywords(rng, ctx, rng.int(1, 3)) },
  }),
  keyword_frequency: (rng, ctx) => ({
    kind: "keyword_frequency",
    params: {
      word: ctx.keywords === "invented" ? keywords(rng, ctx, 1)[0]! : rng.pick(ctx.topic.nouns),
      min: rng.int(2, 4),
    },
  }),
  exclude_words: (rng, ctx) => ({
    kind: "exclude_words",
    params: { words: rng.sample(forbiddable(ctx), rng.int(1, 2)) },
  }),
  no_commas: () => ({ kind: "no_commas", params: {} }),
  word_count: (rng) => counted(rng, "word_count") as Extract<RuleSpec, { kind: "word_count" }>,
  sentence_count: (rng) => counted(rng, "sentence_count") as Extract<RuleSpec, { kind: "sentence_count" }>,
  paragraph_count: (rng) => counted(rng, "paragraph_count") as Extract<RuleSpec, { kind: "paragraph_count" }>,
  item_count: (rng) => counted(rng, "item_count") as Extract<RuleSpec, { kind: "item_count" }>,
  json_keys: (rng) => ({ kind: "json_keys", params: { keys: rng.sample(JSON_KEYS, rng.int(2, 3)) } }),
  markdown_table: (rng) => ({
    kind: "markdown_table",
    params: { columns: [...rng.pick(TABLE_COLUMNS)], min_rows: rng.int(1, 4) },
  }),
  numbered_list: (rng) => ({ kind: "numbered_list", params: { n: rng.int(2, 6) } }),
  bullet_list: (rng) => ({ kind: "bullet_list", params: { min: rng.int(2, 5) } }),
  headings: (rng) => ({ kind: "headings", params: { titles: rng.sample(HEADING_TITLES, rng.int(1, 3)) } }),
  heading_count: (rng) => ({ kind: "heading_count", params: { min: rng.int(1, 4) } }),
  sections: (rng) => ({ kind: "sections", params: { n: rng.int(2, 4) } }),
  lowercase: () => ({ kind: "lowercase", params: {} }),
  uppercase: () => ({ kind: "uppercase", params: {} }),
  quoted: () => ({ kind: "quoted", params: {} }),
  starts_with: (rng) => ({ kind: "starts_with", params: { phrase: rng.pick(START_PHRASES) } }),
  ends_with: (rng) => ({ kind: "ends_with", params: { phrase: rng.pick(END_PHRASES) } }),
  postscript: () => ({ kind: "postscript", params: {} }),
  cite_source: (rng) => ({ kind: "cite_source", params: { source: rng.pick(SOURCES) } }),
  citation_count: (rng) => ({ kind: "citation_count", params: { min: rng.int(1, 3) } }),
  han_chars: (rng) => ({ kind: "han_chars", params: { min: rng.int(5, 20) } }),
  zh_line: () => ({ kind: "zh_line", params: {} }),
};

/** How often each form is drawn; rarer for forms that fix the whole shape (JSON, capitals, quotes). */
const WEIGHTS: Record<RuleKind, number> = {
  include_keywords: 10,
  keyword_frequency: 4,
  exclude_words: 8,
  no_commas: 3,
  word_count: 6,
  sentence_count: 5,
  paragraph_count: 5,
  item_count: 3,
  json_keys: 2,
  markdown_table: 3,
  numbered_list: 4,
  bullet_list: 4,
  headings: 4,
  heading_count: 3,
  sections: 2,
  lowercase: 3,
  uppercase: 1,
  quoted: 2,
  starts_with: 4,
  ends_with: 5,
  postscript: 3,
  cite_source: 4,
  citation_count: 3,
  han_chars: 2,
  zh_line: 2,
};
const WEIGHT_LIST = RULE_KINDS.map((k) => WEIGHTS[k]);
const weightOf = (k: RuleKind, m: number) =>
  k === "include_keywords" || k === "keyword_frequency" ? WEIGHTS[k] * m : WEIGHTS[k];
/** Weight lists with the keyword forms scaled, one per multiplier. */
const SCALED = new Map<number, number[]>();
function weightList(m: number): number[] {
  let w = SCALED.get(m);
  if (!w) SCALED.set(m, (w = RULE_KINDS.map((k) => weightOf(k, m))));
  return w;
}
/** Weights of a restricted list of forms, computed once per list. */
const KIND_WEIGHTS = new WeakMap<readonly RuleKind[], number[]>();

// ---- exports ----

/** The English text of a constraint (without its number). */
export function describeSpec(s: RuleSpec): string {
  switch (s.kind) {
    case "include_keywords":
      return `Include the keyword${s.params.words.length > 1 ? "s" : ""} ${list(s.params.words)}.`;
    case "keyword_frequency":
      return `Use the word ${q(s.params.word)} at least ${s.params.min} times.`;
    case "exclude_words":
      return `Do not use the word${s.params.words.length > 1 ? "s" : ""} ${list(s.params.words, "or")}.`;
    case "no_commas":
      return "Do not use any commas.";
    case "word_count":
    case "sentence_count":
    case "paragraph_count":
    case "item_count": {
      const rel = { exactly: "exactly", at_least: "at least", at_most: "at most" }[s.params.relation];
      const extra = s.kind === "paragraph_count" ? " separated by blank lines" : "";
      return `Use ${rel} ${s.params.n} ${NOUN_OF[s.kind]}${extra}.`;
    }
    case "json_keys":
      return `Format the entire response as a JSON object with the keys ${list(s.params.keys)}.`;
    case "markdown_table":
      return `Include a markdown table with the columns ${list(s.params.columns)} and at least ${s.params.min_rows} data row${s.params.min_rows > 1 ? "s" : ""}.`;
    case "numbered_list":
      return `Present the main points as a numbered list of exactly ${s.params.n} items.`;
    case "bullet_list":
      return `Include at least ${s.params.min} bullet points starting with "- ".`;
    case "headings":
      return `Organize the answer under the markdown headings ${list(s.params.titles)}${s.params.titles.length > 1 ? ", in that order" : ""}.`;
    case "heading_count":
      return `Use at least ${s.params.min} markdown heading${s.params.min > 1 ? "s" : ""}.`;
    case "sections":
      return `Divide the response into ${s.params.n} sections marked SECTION 1 to SECTION ${s.params.n}.`;
    case "lowercase":
      return "Write the entire response in lowercase letters.";
    case "uppercase":
      return "Write the entire response in capital letters.";
    case "quoted":
      return "Wrap the entire response in double quotation marks.";
    case "starts_with":
      return `Begin the response with ${q(s.params.phrase)}.`;
    case "ends_with":
      return `End the response with the exact phrase ${q(s.params.phrase)}.`;
    case "postscript":
      return 'Add a postscript starting with "P.S." at the end.';
    case "cite_source":
      return `Cite the source as [Source: ${s.params.source}].`;
    case "citation_count":
      return `Support your points with at least ${s.params.min} citation${s.params.min > 1 ? "s" : ""} in the form [Source: name].`;
    case "han_chars":
      return `Include at least ${s.params.min} Chinese characters.`;
    case "zh_line":
      return 'Add a line starting with "中文：" that sums up the answer in Chinese.';
  }
}

export function generateSpec(rng: Rng, ctx: GenContext, kind?: RuleKind): RuleSpec {
  let k = kind;
  const m = ctx.keywordWeight ?? 1;
  if (k === undefined && ctx.kinds) {
    let w = m === 1 ? KIND_WEIGHTS.get(ctx.kinds) : ctx.kinds.map((x) => weightOf(x, m));
    if (!w) KIND_WEIGHTS.set(ctx.kinds, (w = ctx.kinds.map((x) => WEIGHTS[x])));
    k = ctx.kinds[rng.weighted(w)]!;
  }
  k ??= RULE_KINDS[rng.weighted(m === 1 ? WEIGHT_LIST : weightList(m))]!;
  return GENERATE[k](rng, ctx);
}

/** A constraint record (text unnumbered; the pipeline numbers texts) carrying its type and check. */
export function toConstraint(spec: RuleSpec): Constraint {
  return { text: describeSpec(spec), type: KIND_DIMENSION[spec.kind], check: toCheckSpec(spec) };
}

/** Draw up to `k` specs with no static conflict or redundancy among them. */
export function sampleSpecs(rng: Rng, ctx: GenContext, k: number): RuleSpec[] {
  const out: RuleSpec[] = [];
  for (let tries = 0; out.length < k && tries < k * 8; tries++) {
    const spec = generateSpec(rng, ctx);
    const next = [...out, spec];
    if (conflictsAt(next, out.length, { reserved: RESERVED }).length === 0 && boundConflicts(next).length === 0)
      out.push(spec);
  }
  return out;
}
