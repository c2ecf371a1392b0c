// The TRACE constraint taxonomy: 5 categories, 26 dimensions, with the Chinese labels the TRACE data uses.
// Facts from the paper (Table 1 / Appendix) encoded as data; lookup by English name or Chinese label.

import { z } from "zod";

// ---- data ----

/** The five constraint types (categories), in the paper's order. */
export const CATEGORIES = ["Content", "Situation", "Style", "Format", "Example"] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Dimension {
  /** English name, e.g. "Inclusion". */
  readonly name: string;
  /** Chinese label as written in TRACE's `levels2`, e.g. "包含约束". */
  readonly zh: string;
  readonly category: Category;
  /** One-line gloss. */
  readonly meaning: string;
}

/** The 26 constraint dimensions, grouped by category in the paper's order. */
export const DIMENSIONS = [
  { name: "Theme", zh: "主题约束", category: "Content", meaning: "focus on a specific topic or field" },
  { name: "Exclusion", zh: "排除约束", category: "Content", meaning: "content that must not be included" },
  { name: "Inclusion", zh: "包含约束", category: "Content", meaning: "content that must be included" },
  {
    name: "Value",
    zh: "价值观约束",
    category: "Content",
    meaning: "no content against values: safety, false information, bias",
  },
  { name: "Privacy", zh: "隐私约束", category: "Content", meaning: "no details that infringe privacy" },
  {
    name: "Numerical",
    zh: "数值约束",
    category: "Content",
    meaning: "limits on length or counts of words, sentences, paragraphs, items; numeric precision",
  },
  {
    name: "Role-Playing",
    zh: "角色扮演约束",
    category: "Situation",
    meaning: "answer as a given role or in a given situation",
  },
  { name: "Target Audience", zh: "受众目标约束", category: "Situation", meaning: "written for a specific audience" },
  {
    name: "Prior Condition",
    zh: "先验条件约束",
    category: "Situation",
    meaning: "when a condition holds, follow a given process or output given content",
  },
  {
    name: "Natural Language Process Background Information",
    zh: "自然语言流程背景信息约束",
    category: "Situation",
    meaning: "process information given in natural language",
  },
  {
    name: "Markdown Process Background Information",
    zh: "markdown流程背景信息约束",
    category: "Situation",
    meaning: "process information given in Markdown",
  },
  {
    name: "Table Background Information",
    zh: "表格背景信息约束",
    category: "Situation",
    meaning: "background given as tables",
  },
  {
    name: "Text Background Information",
    zh: "文本背景信息约束",
    category: "Situation",
    meaning: "background given as text",
  },
  { name: "Tone and Style", zh: "语气风格约束", category: "Style", meaning: "a specific tone or style" },
  { name: "Emotion", zh: "情感情绪约束", category: "Style", meaning: "express a specific emotion or mood" },
  {
    name: "Linguistic Characteristics",
    zh: "语言特征约束",
    category: "Style",
    meaning: "use specific rhetorical or linguistic devices",
  },
  {
    name: "Multilingual",
    zh: "多语言约束",
    category: "Style",
    meaning: "answer in, or switch between, given languages",
  },
  {
    name: "Output Format",
    zh: "输出格式约束",
    category: "Format",
    meaning: "a data format: table, JSON, HTML, LaTeX, Markdown",
  },
  {
    name: "Text Pattern",
    zh: "文本样式约束",
    category: "Format",
    meaning: "text styling: case, fonts, emoji, quoting",
  },
  {
    name: "Grammar Structure",
    zh: "语法结构约束",
    category: "Format",
    meaning: "follow specific grammatical structures",
  },
  { name: "Citation", zh: "引用和参考约束", category: "Format", meaning: "cite sources or follow a reference style" },
  { name: "Numbering and List", zh: "编号和列表约束", category: "Format", meaning: "numbered lists or bullet points" },
  { name: "Hierarchical Structure", zh: "层次化结构约束", category: "Format", meaning: "headings and subheadings" },
  {
    name: "Template",
    zh: "模版约束",
    category: "Format",
    meaning: "follow a layout or template, fixed openings or endings",
  },
  { name: "Positive Example", zh: "正例约束", category: "Example", meaning: "examples to follow" },
  { name: "Negative Example", zh: "负例约束", category: "Example", meaning: "examples to avoid" },
] as const satisfies readonly Dimension[];

export type DimensionName = (typeof DIMENSIONS)[number]["name"];

/** zod schema for a dimension's English name. */
export const DimensionNameSchema = z.enum(DIMENSIONS.map((d) => d.name) as [DimensionName, ...DimensionName[]]);

// ---- lookups ----

const byKey = new Map<string, Dimension>();
for (const d of DIMENSIONS) {
  byKey.set(d.name.toLowerCase(), d);
  byKey.set(d.zh.toLowerCase(), d);
}

/** Find a dimension by English name or Chinese label (case-insensitive, trimmed); undefined if unknown. */
export function findDimension(label: string): Dimension | undefined {
  return byKey.get(label.trim().toLowerCase());
}

/** The dimension with this English name (a name the type system already knows is valid). */
export function dimension(name: DimensionName): Dimension {
  return byKey.get(name.toLowerCase())!;
}

/** The category of a dimension. */
export function categoryOf(name: DimensionName): Category {
  return dimension(name).category;
}
