// The 25 IFEval checkers keyed by instruction id (google-research instructions_registry.INSTRUCTION_DICT).
// The id union is derived from the registry; `parseInstruction` turns an (id, kwargs) pair from an IFEval input
// line into a validated def. No scoring here (src/evaluate/ifeval).

import type { z } from "zod";
import { capitalWordFrequency, englishCapital, englishLowercase } from "./case.ts";
import type { CheckResult } from "./checker.ts";
import { repeatPrompt, twoResponses } from "./combination.ts";
import { numberPlaceholders, postscript } from "./content.ts";
import {
  constrainedResponse,
  jsonFormat,
  multipleSections,
  numberBulletLists,
  numberHighlightedSections,
  title,
} from "./format.ts";
import { keywordsExistence, keywordsForbiddenWords, keywordsFrequency, keywordsLetterFrequency } from "./keywords.ts";
import { responseLanguage } from "./language.ts";
import { nthParagraphFirstWord, numberParagraphs, numberSentences, numberWords } from "./length.ts";
import { noComma } from "./punctuation.ts";
import { endChecker, quotation } from "./startend.ts";

// ---- exports ----

export const REGISTRY = {
  "keywords:existence": keywordsExistence,
  "keywords:frequency": keywordsFrequency,
  "keywords:forbidden_words": keywordsForbiddenWords,
  "keywords:letter_frequency": keywordsLetterFrequency,
  "language:response_language": responseLanguage,
  "length_constraints:number_sentences": numberSentences,
  "length_constraints:number_paragraphs": numberParagraphs,
  "length_constraints:number_words": numberWords,
  "length_constraints:nth_paragraph_first_word": nthParagraphFirstWord,
  "detectable_content:number_placeholders": numberPlaceholders,
  "detectable_content:postscript": postscript,
  "detectable_format:number_bullet_lists": numberBulletLists,
  "detectable_format:constrained_response": constrainedResponse,
  "detectable_format:number_highlighted_sections": numberHighlightedSections,
  "detectable_format:multiple_sections": multipleSections,
  "detectable_format:json_format": jsonFormat,
  "detectable_format:title": title,
  "combination:two_responses": twoResponses,
  "combination:repeat_prompt": repeatPrompt,
  "startend:end_checker": endChecker,
  "change_case:capital_word_frequency": capitalWordFrequency,
  "change_case:english_capital": englishCapital,
  "change_case:english_lowercase": englishLowercase,
  "punctuation:no_comma": noComma,
  "startend:quotation": quotation,
} as const;

export type InstructionId = keyof typeof REGISTRY;
export type InstructionDef = { [K in InstructionId]: z.infer<(typeof REGISTRY)[K]["schema"]> }[InstructionId];

export const INSTRUCTION_IDS = Object.keys(REGISTRY) as InstructionId[];

export function isInstructionId(id: string): id is InstructionId {
  return Object.hasOwn(REGISTRY, id);
}

/**
 * Validate kwargs for an instruction id. Null-valued kwargs are dropped first (the Hugging Face copy of IFEval
 * lists every kwarg name with null); what remains must be exactly what the checker takes.
 */
export function parseInstruction(
  id: InstructionId,
  kwargs: Readonly<Record<string, unknown>>,
): { success: true; def: InstructionDef } | { success: false; error: z.ZodError } {
  const present = Object.fromEntries(Object.entries(kwargs).filter(([, v]) => v !== null && v !== undefined));
  const parsed = REGISTRY[id].schema.safeParse({ kind: id, ...present });
  return parsed.success
    ? { success: true, def: parsed.data as InstructionDef }
    : { success: false, error: parsed.error };
}

/** Run the checker a def names. */
export function checkInstruction(response: string, def: InstructionDef): CheckResult {
  const checker = REGISTRY[def.kind] as unknown as { check: (r: string, d: InstructionDef) => CheckResult };
  return checker.check(response, def);
}
