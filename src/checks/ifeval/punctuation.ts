// IFEval group `punctuation:`: no_comma (no ASCII comma anywhere in the response).

import { defineChecker, pass } from "./checker.ts";

export const noComma = defineChecker("punctuation:no_comma", {}, (response) =>
  pass(!response.includes(","), "forbidden_word", "no commas", "a comma"),
);
