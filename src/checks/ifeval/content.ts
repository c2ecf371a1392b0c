// IFEval group `detectable_content:`: number_placeholders ([...] spans) and postscript (a P.S.-style marker
// at the start of some line, case-insensitive).

import { z } from "zod";
import { Count, defineChecker, pass } from "./checker.ts";
import { countMatches, pyRegex, pyStrip, userRegex } from "./pyre.ts";

const PLACEHOLDER = pyRegex("\\[.*?\\]", "g");

export const numberPlaceholders = defineChecker(
  "detectable_content:number_placeholders",
  { num_placeholders: Count },
  (response, def) => {
    const n = countMatches(PLACEHOLDER, response);
    return pass(n >= def.num_placeholders, "too_small", `at least ${def.num_placeholders} placeholders`, String(n));
  },
);

export const postscript = defineChecker(
  "detectable_content:postscript",
  { postscript_marker: z.string() },
  (response, def) => {
    const marker = pyStrip(def.postscript_marker);
    let pattern: string;
    if (marker === "P.P.S") pattern = "\\s*p\\.\\s?p\\.\\s?s.*$";
    else if (marker === "P.S.") pattern = "\\s*p\\.\\s?s\\..*$";
    else pattern = `\\s*${marker.toLowerCase()}.*$`;
    const found = userRegex(pattern, "m", "postscript_marker").test(response.toLowerCase());
    return pass(found, "missing_text", `a postscript starting with ${marker}`, "none");
  },
);
