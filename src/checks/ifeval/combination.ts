// IFEval group `combination:`: two_responses (two different answers split by ******) and repeat_prompt
// (the response starts with the prompt to repeat, ignoring case and surrounding whitespace).

import { z } from "zod";
import { defineChecker, fail, pass } from "./checker.ts";
import { pyStrip } from "./pyre.ts";

export const twoResponses = defineChecker("combination:two_responses", {}, (response) => {
  const parts = response.split("******");
  const valid: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (pyStrip(parts[i]!) !== "") valid.push(parts[i]!);
    else if (i !== 0 && i !== parts.length - 1) return fail("bad_format", "no empty response", `empty part ${i + 1}`);
  }
  const ok = valid.length === 2 && pyStrip(valid[0]!) !== pyStrip(valid[1]!);
  return pass(ok, "wrong_count", "two different responses", `${valid.length} responses`);
});

export const repeatPrompt = defineChecker(
  "combination:repeat_prompt",
  { prompt_to_repeat: z.string().min(1) },
  (response, def) => {
    const ok = pyStrip(response).toLowerCase().startsWith(pyStrip(def.prompt_to_repeat).toLowerCase());
    return pass(ok, "missing_text", "the response to start with the request, repeated", "a different start");
  },
);
