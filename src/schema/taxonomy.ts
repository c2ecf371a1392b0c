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
  /** The gloss in Chinese (for the Chinese prompts). */
  readonly meaning_zh: string;
}

/** The 26 constraint dimensions, grouped by category in the paper's order. */
export const DIMENSIONS = [
  {
    name: "Theme",
    zh: "主题约束",
    category: "Content",
    meaning: "focus on a specific topic or field",
    meaning_zh: "聚焦于特定的主题或领域",
  },
  {
    name: "Exclusion",
    zh: "排除约束",
    category: "Content",
    meaning: "content that must not be included",
    meaning_zh: "不得包含的内容",
  },
  {
    name: "Inclusion",
    zh: "包含约束",
    category: "Content",
    meaning: "content that must be included",
    meaning_zh: "必须包含的内容",
  },
  {
    name: "Value",
    zh: "价值观约束",
    category: "Content",
    meaning: "no content against values: safety, false information, bias",
    meaning_zh: "不得有违背价值观的内容：安全、虚假信息、偏见",
  },
  {
    name: "Privacy",
    zh: "隐私约束",
    category: "Content",
    meaning: "no details that infringe privacy",
    meaning_zh: "不得出现侵犯隐私的细节",
  },
  {
    name: "Numerical",
    zh: "数值约束",
    category: "Content",
    meaning: "limits on length or counts of words, sentences, paragraphs, items; numeric precision",
    meaning_zh: "字数、句数、段落数、条目数等数量或数值精度的限制",
  },
  {
    name: "Role-Playing",
    zh: "角色扮演约束",
    category: "Situation",
    meaning: "answer as a given role or in a given situation",
    meaning_zh: "以指定角色或在指定情境中作答",
  },
  {
    name: "Target Audience",
    zh: "受众目标约束",
    category: "Situation",
    meaning: "written for a specific audience",
    meaning_zh: "面向特定的受众",
  },
  {
    name: "Prior Condition",
    zh: "先验条件约束",
    category: "Situation",
    meaning: "when a condition holds, follow a given process or output given content",
    meaning_zh: "满足某个条件时，按指定流程处理或输出指定内容",
  },
  {
    name: "Natural Language Process Background Information",
    zh: "自然语言流程背景信息约束",
    category: "Situation",
    meaning: "process information given in natural language",
    meaning_zh: "以自然语言给出的流程信息",
  },
  {
    name: "Markdown Process Background Information",
    zh: "markdown流程背景信息约束",
    category: "Situation",
    meaning: "process information given in Markdown",
    meaning_zh: "以 Markdown 给出的流程信息",
  },
  {
    name: "Table Background Information",
    zh: "表格背景信息约束",
    category: "Situation",
    meaning: "background given as tables",
    meaning_zh: "以表格给出的背景信息",
  },
  {
    name: "Text Background Information",
    zh: "文本背景信息约束",
    category: "Situation",
    meaning: "background given as text",
    meaning_zh: "以文本给出的背景信息",
  },
  {
    name: "Tone and Style",
    zh: "语气风格约束",
    category: "Style",
    meaning: "a specific tone or style",
    meaning_zh: "特定的语气或风格",
  },
  {
    name: "Emotion",
    zh: "情感情绪约束",
    category: "Style",
    meaning: "express a specific emotion or mood",
    meaning_zh: "表达特定的情感或情绪",
  },
  {
    name: "Linguistic Characteristics",
    zh: "语言特征约束",
    category: "Style",
    meaning: "use specific rhetorical or linguistic devices",
    meaning_zh: "使用特定的修辞或语言手法",
  },
  {
    name: "Multilingual",
    zh: "多语言约束",
    category: "Style",
    meaning: "answer in, or switch between, given languages",
    meaning_zh: "使用指定语言作答，或在几种语言间切换",
  },
  {
    name: "Output Format",
    zh: "输出格式约束",
    category: "Format",
    meaning: "a data format: table, JSON, HTML, LaTeX, Markdown",
    meaning_zh: "数据格式：表格、JSON、HTML、LaTeX、Markdown",
  },
  {
    name: "Text Pattern",
    zh: "文本样式约束",
    category: "Format",
    meaning: "text styling: case, fonts, emoji, quoting",
    meaning_zh: "文本样式：大小写、字体、表情符号、引号",
  },
  {
    name: "Grammar Structure",
    zh: "语法结构约束",
    category: "Format",
    meaning: "follow specific grammatical structures",
    meaning_zh: "遵循特定的语法结构",
  },
  {
    name: "Citation",
    zh: "引用和参考约束",
    category: "Format",
    meaning: "cite sources or follow a reference style",
    meaning_zh: "引用来源或遵循参考文献格式",
  },
  {
    name: "Numbering and List",
    zh: "编号和列表约束",
    category: "Format",
    meaning: "numbered lists or bullet points",
    meaning_zh: "编号列表或项目符号",
  },
  {
    name: "Hierarchical Structure",
    zh: "层次化结构约束",
    category: "Format",
    meaning: "headings and subheadings",
    meaning_zh: "标题与小标题的层次",
  },
  {
    name: "Template",
    zh: "模版约束",
    category: "Format",
    meaning: "follow a layout or template, fixed openings or endings",
    meaning_zh: "遵循版式或模板，固定的开头或结尾",
  },
  {
    name: "Positive Example",
    zh: "正例约束",
    category: "Example",
    meaning: "examples to follow",
    meaning_zh: "需要仿照的示例",
  },
  {
    name: "Negative Example",
    zh: "负例约束",
    category: "Example",
    meaning: "examples to avoid",
    meaning_zh: "需要避免的示例",
  },
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
