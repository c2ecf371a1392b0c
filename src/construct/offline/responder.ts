// The programmatic responder: writes a response that satisfies a consistent set of rule specs, or refuses with
// a code and reason (static conflict, numeric infeasibility for its layouts). It verifies its own output.

import { checkRule, findConflicts, measure, type RuleSpec } from "../../checks/rules/index.ts";
import type { Rng } from "./rng.ts";
import { ADJECTIVES, HEADING_TITLES, NOUNS, RESERVED, SOURCES, type Topic, VERBS, ZH_SENTENCES } from "./vocab.ts";

// ---- types ----

export type Reply =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly code: "conflict" | "unsatisfiable" | "self_check"; readonly reason: string };

interface Range {
  lo: number;
  hi: number;
}

/** A block of the response: `head` lines (heading, list, table) then a body of sentences, then `tail` lines. */
interface Block {
  head: string[];
  body: string[];
  tail: string[];
  plain: boolean;
}

// ---- helpers ----

/** Where extra words go; a private-use character JSON.stringify leaves alone. */
const STRETCH = "\uE000";
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A word the responder may use: not forbidden, no comma. */
function usable(w: string, forbidden: ReadonlySet<string>): boolean {
  return !w.includes(",") && (forbidden.size === 0 || !forbidden.has(w.toLowerCase()));
}

/** The word pools (adjectives, nouns, verbs, nouns) of a topic when nothing is forbidden, built once. */
const OPEN_POOLS = new Map<Topic, string[][]>();

function pools(topic: Topic, forbidden: ReadonlySet<string>): string[][] {
  if (forbidden.size === 0) {
    const hit = OPEN_POOLS.get(topic);
    if (hit) return hit;
  }
  const nouns = [...topic.nouns, ...NOUNS].filter((w) => usable(w, forbidden));
  const out = [ADJECTIVES.filter((w) => usable(w, forbidden)), nouns, VERBS.filter((w) => usable(w, forbidden)), nouns];
  const safe = out.map((p) => (p.length ? p : ["it"]));
  if (forbidden.size === 0) OPEN_POOLS.set(topic, safe);
  return safe;
}

/** Draws words that avoid every forbidden word, cycling a loose adjective-noun-verb pattern. */
class Words {
  private readonly pools: string[][];
  private i = 0;
  constructor(
    private readonly rng: Rng,
    topic: Topic,
    forbidden: ReadonlySet<string>,
  ) {
    this.pools = pools(topic, forbidden);
  }
  next(): string {
    return this.rng.pick(this.pools[this.i++ % this.pools.length]!);
  }
  sentence(n: number): string {
    let s = "";
    for (let k = 0; k < n; k++) s += k === 0 ? this.next() : ` ${this.next()}`;
    return `${cap(s)}.`;
  }
  run(n: number): string {
    let s = "";
    for (let k = 0; k < n; k++) s += ` ${this.next()}`;
    return s;
  }
}

function range(specs: readonly RuleSpec[], kind: RuleSpec["kind"]): Range {
  const r = { lo: 0, hi: Number.POSITIVE_INFINITY };
  for (const s of specs) {
    if (s.kind !== kind || !("relation" in s.params)) continue;
    const { relation, n } = s.params;
    if (relation !== "at_most") r.lo = Math.max(r.lo, n);
    if (relation !== "at_least") r.hi = Math.min(r.hi, n);
  }
  return r;
}

/**
 * The specs of one kind. `of` is asked about ~20 kinds per response, always for the specs array of the response
 * being written (composing is synchronous), so that array's grouping is kept (one entry; arrays are shared).
 */
let groupedFor: readonly RuleSpec[] | undefined;
let grouped = new Map<RuleSpec["kind"], RuleSpec[]>();
const NONE: never[] = [];

function of<K extends RuleSpec["kind"]>(
  specs: readonly RuleSpec[],
  kind: K,
): readonly Extract<RuleSpec, { kind: K }>[] {
  if (specs !== groupedFor) {
    grouped = new Map();
    for (const s of specs) {
      const list = grouped.get(s.kind);
      if (list) list.push(s);
      else grouped.set(s.kind, [s]);
    }
    groupedFor = specs;
  }
  return (grouped.get(kind) ?? NONE) as Extract<RuleSpec, { kind: K }>[];
}

function unique(items: string[]): string[] {
  const seen = new Set<string>();
  return items.filter((x) => !seen.has(x.toLowerCase()) && seen.add(x.toLowerCase()));
}

/** Merge title lists so each list's order holds (stable topological sort; static checks rule out cycles). */
const key = (t: string) => t.toLowerCase();

function orderTitles(lists: readonly string[][]): string[] | undefined {
  const name = new Map<string, string>();
  const after = new Map<string, Set<string>>();
  for (const l of lists)
    l.forEach((t, i) => {
      if (!name.has(key(t))) name.set(key(t), t);
      const set = after.get(key(t)) ?? new Set<string>();
      for (const u of l.slice(0, i)) if (key(u) !== key(t)) set.add(key(u));
      after.set(key(t), set);
    });
  const out: string[] = [];
  const done = new Set<string>();
  while (out.length < name.size) {
    const next = [...name.keys()].find((k) => !done.has(k) && [...after.get(k)!].every((u) => done.has(u)));
    if (!next) return undefined; // the lists' orders form a cycle across three or more constraints
    done.add(next);
    out.push(name.get(next)!);
  }
  return out;
}

/** Sentences carrying required content: keywords, repeated words, citations, Chinese. */
function contentSentences(
  specs: readonly RuleSpec[],
  forbidden: ReadonlySet<string>,
  rng: Rng,
  quote: boolean,
): string[] {
  const out: string[] = [];
  // Quoted, a keyword is written as the prompt writes it (`"word"`), so a tokenizer splits it the same way in both.
  const kw = quote ? (w: string) => `"${w}"` : (w: string) => w;
  const keywords = unique(of(specs, "include_keywords").flatMap((s) => s.params.words));
  if (keywords.length) out.push(`This answer covers ${keywords.map(kw).join(" and ")}.`);
  for (const s of of(specs, "keyword_frequency"))
    out.push(`The word ${kw(s.params.word)} appears here${` and ${kw(s.params.word)}`.repeat(s.params.min - 1)}.`);
  const sources = unique(of(specs, "cite_source").map((s) => s.params.source));
  const need = Math.max(0, ...of(specs, "citation_count").map((s) => s.params.min));
  const spare = SOURCES.filter((x) => !x.split(" ").some((w) => forbidden.has(w.toLowerCase())));
  for (const x of spare) if (sources.length < need && !sources.includes(x)) sources.push(x);
  if (sources.length) out.push(`Figures follow the reports ${sources.map((x) => `[Source: ${x}]`).join(" ")}.`);
  const han = Math.max(0, ...of(specs, "han_chars").map((s) => s.params.min));
  let got = 0;
  while (got < han) {
    const z = rng.pick(ZH_SENTENCES);
    out.push(z);
    got += measure.hanCount(z);
  }
  return out;
}

function renderBlock(b: Block, fillers: string[] | undefined): string {
  const body = fillers ? [b.body[0]!, ...fillers, ...b.body.slice(1)] : b.body;
  const lines = [...b.head];
  if (body.length) lines.push(body.join(" "));
  return [...lines, ...b.tail].join("\n");
}

// ---- layout ----

function plainBlock(words: Words): Block {
  return { head: [], body: [words.sentence(4)], tail: [], plain: true };
}

interface Layout {
  blocks: Block[];
  /** Indices of plain blocks (filler goes there). */
  plains: number[];
  json?: { keys: string[] };
}

function prose(
  specs: readonly RuleSpec[],
  words: Words,
  forbidden: ReadonlySet<string>,
  rng: Rng,
  loose: boolean,
  quote: boolean,
): Layout | string {
  const structural: Block[] = [];
  const titles = orderTitles(of(specs, "headings").map((s) => s.params.titles));
  if (!titles) return "the heading orders of several constraints form a cycle";
  const minHeadings = Math.max(0, ...of(specs, "heading_count").map((s) => s.params.min));
  for (const t of HEADING_TITLES)
    if (titles.length < minHeadings && !titles.includes(t) && !forbidden.has(t.toLowerCase())) titles.push(t);
  for (const t of titles) structural.push({ head: [`## ${t}`], body: [words.sentence(4)], tail: [], plain: false });
  const sections = of(specs, "sections")[0]?.params.n ?? 0;
  for (let k = 1; k <= sections; k++)
    structural.push({ head: [`SECTION ${k}`], body: [words.sentence(4)], tail: [], plain: false });

  // List items: numbered fixed, bullets solved against the item-count range.
  const numbered = of(specs, "numbered_list")[0]?.params.n ?? 0;
  const items = range(specs, "item_count");
  const bulletMin = Math.max(0, ...of(specs, "bullet_list").map((s) => s.params.min));
  let bullets = Math.max(bulletMin, items.lo - numbered);
  if (bulletMin > 0 && loose && items.hi === Number.POSITIVE_INFINITY) bullets += rng.int(0, 2);
  if (numbered + bullets > items.hi) return `needs ${numbered + bullets} list items, allows ${items.hi}`;
  if (numbered)
    structural.push({
      head: Array.from({ length: numbered }, (_, i) => `${i + 1}. ${words.sentence(3)}`),
      body: [],
      tail: [],
      plain: false,
    });
  if (bullets)
    structural.push({
      head: Array.from({ length: bullets }, () => `- ${words.sentence(3)}`),
      body: [],
      tail: [],
      plain: false,
    });
  // One table per distinct column list, with the most rows any spec asks for.
  const tables = new Map<string, { cols: string[]; rows: number }>();
  for (const t of of(specs, "markdown_table")) {
    const key = t.params.columns.join("|").toLowerCase();
    tables.set(key, { cols: t.params.columns, rows: Math.max(t.params.min_rows, tables.get(key)?.rows ?? 0) });
  }
  for (const { cols, rows } of tables.values()) {
    const head = [`| ${cols.join(" | ")} |`, `| ${cols.map(() => "---").join(" | ")} |`];
    for (let r = 0; r < rows; r++) head.push(`| ${cols.map(() => words.next()).join(" | ")} |`);
    structural.push({ head, body: [], tail: [], plain: false });
  }
  const ps = of(specs, "postscript").length > 0;
  const edge = of(specs, "ends_with").length > 0 || of(specs, "quoted").length > 0;
  const pmin = edge && !ps && tables.size > 0 ? 2 : 1;
  const paras = range(specs, "paragraph_count");
  const sb = structural.length + (ps ? 1 : 0);
  let p = Math.max(pmin, paras.lo - sb);
  if (sb + p > paras.hi) return `needs ${sb + p} paragraphs, allows ${paras.hi}`;
  if (loose) p = Math.min(p + rng.int(0, 1), paras.hi - sb);

  const blocks = [plainBlock(words), ...structural, ...Array.from({ length: p - 1 }, () => plainBlock(words))];
  if (ps) blocks.push({ head: [], body: [`P.S. ${words.sentence(4)}`], tail: [], plain: false });
  const first = blocks[0]!;
  first.body = [
    `${cap(words.next())} ${words.next()} ${words.next()}${STRETCH}.`,
    ...contentSentences(specs, forbidden, rng, quote),
  ];
  if (of(specs, "zh_line").length) first.tail.push(`中文：${rng.pick(ZH_SENTENCES)}`);
  const plains = blocks.flatMap((b, i) => (b.plain ? [i] : []));
  return { blocks, plains };
}

function assemble(layout: Layout, specs: readonly RuleSpec[], fillers: string[][], stretch: string): string {
  const start = of(specs, "starts_with")[0]?.params.phrase;
  const end = of(specs, "ends_with")[0]?.params.phrase;
  let text: string;
  if (layout.json) {
    const [b] = layout.blocks;
    const obj: Record<string, string> = {};
    layout.json.keys.forEach((k, i) => {
      obj[k] = i === 0 ? renderBlock(b!, fillers[0]) : layout.blocks[i]!.body.join(" ");
    });
    text = JSON.stringify(obj, null, 2);
  } else {
    const parts = layout.blocks.map((b, i) => renderBlock(b, fillers[layout.plains.indexOf(i)]));
    if (start) parts[0] = `${start} ${parts[0]}`;
    if (end) parts[parts.length - 1] = `${parts.at(-1)} ${end}`;
    text = parts.join("\n\n");
  }
  return text.replace(STRETCH, stretch);
}

// ---- exports ----

export interface RespondOptions {
  /** The caller has just found no static conflict in `specs` (with the RESERVED words): skip that check. */
  readonly conflictFree?: boolean;
  /**
   * Check the text with every spec's checker before returning it (`self_check` on a miss). @default true.
   * Callers that check the text themselves right after (the rewriter's probe, the worse-response search) skip it.
   */
  readonly verify?: boolean;
  /** Write required keywords in double quotes, as the constraint quotes them (escaped inside a JSON answer). */
  readonly quoteKeywords?: boolean;
}

/** Write a response satisfying every spec, or say why not. `loose` adds natural variety when nothing bounds it. */
export function respond(specs: readonly RuleSpec[], topic: Topic, rng: Rng, options: RespondOptions = {}): Reply {
  return compose(specs, topic, rng, options, false);
}

/**
 * Whether `respond` would write a response (`ok`, with an empty text) or refuse (`conflict` /
 * `unsatisfiable`), without writing it: the planning half only. It draws from `rng` exactly as `respond` does,
 * so a caller can decide feasibility and go on drawing from the same stream with the same results.
 */
export function plan(specs: readonly RuleSpec[], topic: Topic, rng: Rng): Reply {
  return compose(specs, topic, rng, { verify: false }, true);
}

function compose(
  specs: readonly RuleSpec[],
  topic: Topic,
  rng: Rng,
  options: RespondOptions,
  planOnly: boolean,
): Reply {
  if (!options.conflictFree) {
    const conflict = findConflicts(specs, { reserved: RESERVED }).find((c) => c.code === "conflict");
    if (conflict) return { ok: false, code: "conflict", reason: conflict.reason };
  }
  const forbidden = new Set(of(specs, "exclude_words").flatMap((s) => s.params.words.map((w) => w.toLowerCase())));
  const words = new Words(rng, topic, forbidden);
  const quote = options.quoteKeywords === true;
  const wordsR = range(specs, "word_count");
  const sentR = range(specs, "sentence_count");
  const loose = wordsR.hi === Number.POSITIVE_INFINITY && sentR.hi === Number.POSITIVE_INFINITY;

  let layout: Layout;
  const keys = unique(of(specs, "json_keys").flatMap((s) => s.params.keys));
  if (keys.length) {
    const lead: Block = {
      head: [],
      body: [
        `${cap(words.next())} ${words.next()} ${words.next()}${STRETCH}.`,
        ...contentSentences(specs, forbidden, rng, quote),
      ],
      tail: [],
      plain: true,
    };
    const rest = keys.slice(1).map((): Block => ({ head: [], body: [words.sentence(4)], tail: [], plain: false }));
    layout = { blocks: [lead, ...rest], plains: [0], json: { keys } };
  } else {
    const l = prose(specs, words, forbidden, rng, loose, quote);
    if (typeof l === "string") return { ok: false, code: "unsatisfiable", reason: l };
    layout = l;
  }

  // Measure the base text, then add filler sentences (k) and words (stretch) — both additive by construction.
  const base = assemble(layout, specs, [], "");
  const s0 = layout.json ? 0 : measure.sentenceCount(base);
  const w0 = measure.countWords(base);
  const bounded =
    wordsR.lo > 0 || wordsR.hi < Number.POSITIVE_INFINITY || sentR.lo > 0 || sentR.hi < Number.POSITIVE_INFINITY;
  const k = layout.json ? 0 : bounded ? Math.max(0, sentR.lo - s0) : rng.int(1, 3);
  if (s0 + k > sentR.hi)
    return { ok: false, code: "unsatisfiable", reason: `needs at least ${s0 + k} sentences, allows ${sentR.hi}` };
  const wmin = w0 + 2 * k;
  const target = bounded ? Math.max(wordsR.lo, wmin) : wmin + k * rng.int(3, 8);
  if (target > wordsR.hi)
    return { ok: false, code: "unsatisfiable", reason: `needs at least ${wmin} words, allows ${wordsR.hi}` };
  let extra = target - wmin;
  if (planOnly) {
    // The fillers below draw 2 + add words per sentence and the stretch draws the rest: 2k + extra in all.
    rng.skip(2 * k + extra);
    return { ok: true, text: "" };
  }
  const fillers: string[][] = layout.plains.map(() => []);
  for (let i = 0; i < k; i++) {
    const add = Math.min(extra, 12);
    extra -= add;
    fillers[i % fillers.length]!.push(words.sentence(2 + add));
  }
  let text = assemble(layout, specs, fillers, words.run(extra));
  if (of(specs, "lowercase").length) text = text.toLowerCase();
  if (of(specs, "uppercase").length) text = text.toUpperCase();
  if (of(specs, "quoted").length) text = `"${text}"`;
  if (options.verify === false) return { ok: true, text };
  for (const s of specs) {
    const v = checkRule(text, s);
    if (!v.ok)
      return { ok: false, code: "self_check", reason: `${s.kind}: ${v.issues[0]!.expected}, got ${v.issues[0]!.got}` };
  }
  return { ok: true, text };
}
