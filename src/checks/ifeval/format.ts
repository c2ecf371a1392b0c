// IFEval group `detectable_format:`: number_bullet_lists, constrained_response, number_highlighted_sections,
// multiple_sections, json_format, title. Patterns are the official ones, compiled with Python semantics.

import { z } from "zod";
import { Count, defineChecker, pass } from "./checker.ts";
import { countMatches, pyRegex, pyRstrip, pyStrip, userRegex } from "./pyre.ts";

const STAR_BULLET = pyRegex("^\\s*\\*[^\\*].*$", "mg");
const DASH_BULLET = pyRegex("^\\s*-.*$", "mg");
const HIGHLIGHT = pyRegex("\\*[^\\n\\*]*\\*", "g");
const DOUBLE_HIGHLIGHT = pyRegex("\\*\\*[^\\n\\*]*\\*\\*", "g");
const TITLE = pyRegex("<<[^\\n]+>>", "g");
const OPTIONS = ["My answer is yes.", "My answer is no.", "My answer is maybe."];
/** Python's json module also accepts NaN, Infinity and -Infinity as values. */
const PY_JSON_CONSTANTS = /"(?:[^"\\]|\\.)*"|(-?Infinity|(?<!-)NaN)/g;

export const numberBulletLists = defineChecker(
  "detectable_format:number_bullet_lists",
  { num_bullets: Count },
  (response, def) => {
    const n = countMatches(STAR_BULLET, response) + countMatches(DASH_BULLET, response);
    return pass(n === def.num_bullets, "wrong_count", `${def.num_bullets} bullet points`, String(n));
  },
);

export const constrainedResponse = defineChecker("detectable_format:constrained_response", {}, (response) => {
  const value = pyStrip(response);
  return pass(
    OPTIONS.some((o) => value.includes(o)),
    "missing_text",
    `one of ${OPTIONS.join(" | ")}`,
    "none",
  );
});

export const numberHighlightedSections = defineChecker(
  "detectable_format:number_highlighted_sections",
  { num_highlights: Count },
  (response, def) => {
    let n = 0;
    for (const m of response.matchAll(HIGHLIGHT)) if (pyStrip(pyStrip(m[0], "*")) !== "") n++;
    for (const m of response.matchAll(DOUBLE_HIGHLIGHT)) if (pyStrip(m[0].slice(2, -2)) !== "") n++;
    return pass(n >= def.num_highlights, "too_small", `at least ${def.num_highlights} highlights`, String(n));
  },
);

export const multipleSections = defineChecker(
  "detectable_format:multiple_sections",
  { section_spliter: z.string().min(1), num_sections: Count },
  (response, def) => {
    const splitter = userRegex(`\\s?${pyStrip(def.section_spliter)}\\s?\\d+\\s?`, "", "section_spliter");
    const n = response.split(splitter).length - 1;
    return pass(n >= def.num_sections, "too_small", `at least ${def.num_sections} sections`, String(n));
  },
);

/** json.loads(value) succeeds. */
export function isPythonJson(text: string): boolean {
  for (const candidate of [text, text.replace(PY_JSON_CONSTANTS, (m, c) => (c ? "0" : m))]) {
    try {
      JSON.parse(candidate);
      return true;
    } catch {}
  }
  return false;
}

export const jsonFormat = defineChecker("detectable_format:json_format", {}, (response) => {
  let value = pyStrip(response);
  for (const prefix of ["```json", "```Json", "```JSON", "```"])
    if (value.startsWith(prefix)) value = value.slice(prefix.length);
  if (value.endsWith("```")) value = value.slice(0, -3);
  return pass(isPythonJson(pyStrip(value)), "bad_format", "valid JSON", "unparseable text");
});

export const title = defineChecker("detectable_format:title", {}, (response) => {
  const found = [...response.matchAll(TITLE)].some((m) => pyStrip(pyRstrip(m[0].replace(/^<+/, ""), ">")) !== "");
  return pass(found, "missing_text", "a title in <<double angular brackets>>", "none");
});
