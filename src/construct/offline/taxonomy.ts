// The offline world's taxonomy roles: for each seed it proposes the constraint types its own generators could
// add (under varied names, as different annotators would write them), plus softer built-in types and a few
// types the 26 dimensions lack; merging and mapping follow the concept each name was written for. Deterministic.

import { KIND_DIMENSION, type RuleSpec } from "../../checks/rules/index.ts";
import { type DimensionName, findDimension, type Proposal } from "../../schema/index.ts";
import { ok, type SeedRecord, type StageResult, type TaxonomyRoles, type TypeCluster } from "../roles.ts";
import { describeSpec, sampleSpecs } from "./generators.ts";
import { Rng } from "./rng.ts";
import { SEEDS, seedFromText } from "./seeds.ts";
import type { Topic } from "./vocab.ts";

// ---- types ----

interface Concept {
  /** The built-in dimension it is, or null for a type the 26 lack. */
  readonly dimension: DimensionName | null;
  readonly category: string;
  readonly zh: string;
  /** Names annotators write for it: the first is canonical. */
  readonly names: readonly string[];
  readonly definition: string;
  /** An example constraint for a topic (types without a generator). */
  readonly example?: (topic: Topic) => string;
}

// ---- data ----

const VERIFIABLE: Record<string, Concept> = {
  Inclusion: {
    dimension: "Inclusion",
    category: "Content",
    zh: "包含约束",
    names: ["Inclusion", "Inclusion constraint", "Keyword inclusion", "Required keywords", "required words"],
    definition: "words or content the answer must contain",
  },
  Exclusion: {
    dimension: "Exclusion",
    category: "Content",
    zh: "排除约束",
    names: ["Exclusion", "exclusion constraints", "Forbidden words", "Banned words"],
    definition: "words or content the answer must not contain",
  },
  Numerical: {
    dimension: "Numerical",
    category: "Content",
    zh: "数值约束",
    names: ["Numerical", "Length limit", "Word limit", "word limits", "Length constraint"],
    definition: "limits on the number of words, sentences, paragraphs or items",
  },
  "Output Format": {
    dimension: "Output Format",
    category: "Format",
    zh: "输出格式约束",
    names: ["Output format", "Output Format constraint", "Data format", "Structured output format"],
    definition: "the answer in a data format such as JSON or a table",
  },
  "Numbering and List": {
    dimension: "Numbering and List",
    category: "Format",
    zh: "编号和列表约束",
    names: ["Numbering and list", "List format", "Bullet list format", "Numbered list"],
    definition: "points given as a numbered or bulleted list",
  },
  "Hierarchical Structure": {
    dimension: "Hierarchical Structure",
    category: "Format",
    zh: "层次化结构约束",
    names: ["Hierarchical structure", "Section headings", "Heading structure"],
    definition: "the answer organised under headings or sections",
  },
  "Text Pattern": {
    dimension: "Text Pattern",
    category: "Format",
    zh: "文本样式约束",
    names: ["Text pattern", "Letter case", "Capitalization style", "Text styling"],
    definition: "case, quotation and other styling of the text",
  },
  Template: {
    dimension: "Template",
    category: "Format",
    zh: "模版约束",
    names: ["Template", "Fixed opening or ending", "Response template"],
    definition: "a fixed opening, ending or layout",
  },
  Citation: {
    dimension: "Citation",
    category: "Format",
    zh: "引用和参考约束",
    names: ["Citation", "Citations", "Source citation", "Reference style"],
    definition: "sources cited in a given form",
  },
  Multilingual: {
    dimension: "Multilingual",
    category: "Style",
    zh: "多语言约束",
    names: ["Multilingual", "Language mixing", "Bilingual output"],
    definition: "parts of the answer in another language",
  },
};

const SOFT: readonly Concept[] = [
  {
    dimension: "Tone and Style",
    category: "Style",
    zh: "语气风格约束",
    names: ["Tone and style", "Tone", "Writing tone"],
    definition: "the tone or style of the writing",
    example: (t) => `Write about ${t.name} in a warm, conversational tone.`,
  },
  {
    dimension: "Target Audience",
    category: "Situation",
    zh: "受众目标约束",
    names: ["Target audience", "Audience", "Intended readers"],
    definition: "who the answer is written for",
    example: (t) => `Address readers who are new to ${t.name}.`,
  },
  {
    dimension: "Role-Playing",
    category: "Situation",
    zh: "角色扮演约束",
    names: ["Role-playing", "Role play", "Persona"],
    definition: "answer as a given role",
    example: (t) => `Answer as an expert in ${t.name}.`,
  },
];

const NEW: readonly Concept[] = [
  {
    dimension: null,
    category: "Style",
    zh: "阅读难度约束",
    names: ["Reading level", "reading levels", "Readability level"],
    definition: "how hard the text may be to read",
    example: (t) => `Keep the text about ${t.name} at a 6th-grade reading level.`,
  },
  {
    dimension: null,
    category: "Content",
    zh: "时间范围约束",
    names: ["Time frame", "Time-frame", "Time period"],
    definition: "the period of time the content must cover",
    example: (t) => `Only discuss developments in ${t.name} from the last ten years.`,
  },
];

// ---- helpers ----

const norm = (s: string) => s.trim().toLowerCase();
const BY_NAME = new Map<string, Concept>();
for (const c of [...Object.values(VERIFIABLE), ...SOFT, ...NEW]) for (const n of c.names) BY_NAME.set(norm(n), c);
const SEED_TOPIC = new Map(SEEDS.map((s) => [s.text, s.topic]));

const conceptOf = (c: TypeCluster) => BY_NAME.get(norm(c.name));

function proposal(c: Concept, rng: Rng, example: string): Proposal {
  return { name: rng.pick(c.names), zh: c.zh, category: c.category, definition: c.definition, example };
}

// ---- exports ----

export class OfflineTaxonomyRoles implements TaxonomyRoles {
  readonly origin = "offline";
  private readonly seed: number;

  constructor(options: { readonly seed: number }) {
    this.seed = options.seed;
  }

  async propose(seed: SeedRecord, key: string): Promise<StageResult<Proposal[]>> {
    const rng = Rng.for(this.seed, `propose:${key}`);
    const topic = SEED_TOPIC.get(seed.text) ?? seedFromText(seed.id, seed.text).topic;
    const specs: RuleSpec[] = sampleSpecs(rng, { topic }, rng.int(2, 4));
    const out: Proposal[] = [];
    const seen = new Set<Concept>();
    for (const s of specs) {
      const c = VERIFIABLE[KIND_DIMENSION[s.kind]]!;
      if (!seen.has(c)) out.push(proposal(c, rng, describeSpec(s)));
      seen.add(c);
    }
    if (rng.chance(0.4)) {
      const c = rng.pick(SOFT);
      out.push(proposal(c, rng, c.example!(topic)));
    }
    if (rng.chance(0.15)) {
      const c = rng.pick(NEW);
      out.push(proposal(c, rng, c.example!(topic)));
    }
    return ok(out);
  }

  async same(a: TypeCluster, b: TypeCluster): Promise<StageResult<boolean>> {
    const ca = conceptOf(a);
    return ok(ca !== undefined && ca === conceptOf(b));
  }

  async map(c: TypeCluster): Promise<StageResult<DimensionName | null>> {
    const d = conceptOf(c)?.dimension ?? null;
    return ok(d && findDimension(d) ? d : null);
  }
}
