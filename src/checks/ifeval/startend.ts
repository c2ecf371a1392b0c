// IFEval group `startend:`: end_checker (ends with a phrase, ignoring case, whitespace and outer quotes) and
// quotation (the whole response wrapped in double quotes).

import { z } from "zod";
import { defineChecker, pass } from "./checker.ts";
import { pyStrip } from "./pyre.ts";

export const endChecker = defineChecker("startend:end_checker", { end_phrase: z.string() }, (response, def) => {
  const value = pyStrip(pyStrip(response), '"').toLowerCase();
  const phrase = pyStrip(def.end_phrase).toLowerCase();
  return pass(value.endsWith(phrase), "missing_text", `the response to end with ${JSON.stringify(phrase)}`, "no");
});

export const quotation = defineChecker("startend:quotation", {}, (response) => {
  const value = pyStrip(response);
  const ok = [...value].length > 1 && value.startsWith('"') && value.endsWith('"');
  return pass(ok, "bad_format", "the response wrapped in double quotes", "not wrapped");
});
