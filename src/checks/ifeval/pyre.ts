// Python `re` and `str` semantics in JavaScript: the official IFEval checkers are Python, and their verdicts
// depend on Python's Unicode-aware \w \d \s \b, its `$` (also before a final newline) and its str methods.
// This file translates the subset of Python regex syntax the checkers (and their keyword kwargs) use into an
// equivalent JS `u`-flag RegExp, and provides strip/split/isupper/islower as Python defines them.
// It does not support Python-only constructs (conditionals, possessive quantifiers, \W inside a class).

import { DataError } from "../../errors.ts";

// ---- character sets ----

/** Python's str.isspace() set (what \s, strip() and split() use on str). */
export const PY_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/** Python's \w on str: alphanumeric (Unicode letters and numbers) or underscore. */
export const PY_WORD = "\\p{L}\\p{N}_";
const WS_RE = new RegExp(`[${PY_SPACE}]`, "u");
const WS_RUN_RE = new RegExp(`[${PY_SPACE}]+`, "u");
const BOUNDARY = `(?:(?<=[${PY_WORD}])(?![${PY_WORD}])|(?<![${PY_WORD}])(?=[${PY_WORD}]))`;
const NON_BOUNDARY = `(?:(?<=[${PY_WORD}])(?=[${PY_WORD}])|(?<![${PY_WORD}])(?![${PY_WORD}]))`;
const JS_SYNTAX = new Set("^$\\.*+?()[]{}|/");

// ---- helpers ----

interface Translated {
  readonly source: string;
  readonly ignoreCase: boolean;
}

function translateEscape(c: string, inClass: boolean): string {
  switch (c) {
    case "w":
      return inClass ? PY_WORD : `[${PY_WORD}]`;
    case "d":
      return "\\p{Nd}";
    case "D":
      return "\\P{Nd}";
    case "s":
      return inClass ? PY_SPACE : `[${PY_SPACE}]`;
    case "A":
      return "^";
    case "Z":
      return "$";
  }
  if (!inClass && c === "W") return `[^${PY_WORD}]`;
  if (!inClass && c === "S") return `[^${PY_SPACE}]`;
  if (!inClass && c === "b") return BOUNDARY;
  if (!inClass && c === "B") return NON_BOUNDARY;
  if (inClass && "WSbB".includes(c)) throw new Error(`\\${c} inside a character class is not supported`);
  if (/[0-9A-Za-z]/.test(c)) return `\\${c}`;
  if (JS_SYNTAX.has(c) || (inClass && c === "-")) return `\\${c}`;
  return c;
}

/** Translate Python regex syntax to JS (`u` flag). `multiline` mirrors re.MULTILINE. */
function translate(py: string, multiline: boolean): Translated {
  let out = "";
  let ignoreCase = false;
  let inClass = false;
  let classStart = -1;
  for (let i = 0; i < py.length; i++) {
    const c = py[i]!;
    if (c === "\\") {
      const next = py[++i];
      if (next === undefined) throw new Error("pattern ends with a backslash");
      out += translateEscape(next, inClass);
      continue;
    }
    if (inClass) {
      if (c === "]" && i === classStart) out += "\\]";
      else if (c === "[") out += "\\[";
      else {
        out += c;
        if (c === "]") inClass = false;
      }
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += "[";
      if (py[i + 1] === "^") out += py[++i];
      classStart = i + 1;
      continue;
    }
    if (c === "(" && py[i + 1] === "?") {
      const rest = py.slice(i + 2);
      const flags = /^([aiLmsux]+)\)/.exec(rest);
      if (flags) {
        if (flags[1]!.includes("i")) ignoreCase = true;
        if (flags[1]!.includes("m")) multiline = true;
        i += 2 + flags[0].length - 1;
        continue;
      }
      if (rest.startsWith("#")) {
        i = py.indexOf(")", i);
        continue;
      }
      if (rest.startsWith("P<")) {
        out += "(?<";
        i += 3;
        continue;
      }
    }
    if (c === ".") out += "[^\\n]";
    else if (c === "^") out += multiline ? "(?<=^|\\n)" : "^";
    else if (c === "$") out += multiline ? "(?=\\n|$)" : "(?=\\n?$)";
    else if (c === "{") {
      const q = /^\{(\d*)(,?)(\d*)\}/.exec(py.slice(i));
      if (q && (q[1] !== "" || (q[2] === "," && q[3] !== ""))) {
        out += `{${q[1] || "0"}${q[2]}${q[3]}}`;
        i += q[0].length - 1;
      } else out += "\\{";
    } else if (c === "}" || c === "]") out += `\\${c}`;
    else out += c;
  }
  return { source: out, ignoreCase };
}

const CACHE = new Map<string, RegExp>();

// ---- exports ----

/**
 * Compile a Python regex as a JS RegExp with the same meaning on str input. `flags` takes Python-style letters:
 * `i` (IGNORECASE), `m` (MULTILINE), plus JS `g`/`y`. Compiled patterns are cached.
 */
export function pyRegex(pattern: string, flags = ""): RegExp {
  const key = `${flags}\u0000${pattern}`;
  let re = CACHE.get(key);
  if (re) {
    re.lastIndex = 0;
    return re;
  }
  const t = translate(pattern, flags.includes("m"));
  const js = `u${t.ignoreCase || flags.includes("i") ? "i" : ""}${flags.includes("g") ? "g" : ""}${flags.includes("y") ? "y" : ""}`;
  re = new RegExp(t.source, js);
  CACHE.set(key, re);
  return re;
}

/** Compile a user-supplied Python pattern (a kwarg), turning a syntax error into a DataError. */
export function userRegex(pattern: string, flags: string, field: string): RegExp {
  try {
    return pyRegex(pattern, flags);
  } catch (err) {
    throw new DataError("invalid regular expression in kwarg", {
      field,
      expected: "a Python regular expression the checker can compile",
      got: `${JSON.stringify(pattern)} (${(err as Error).message})`,
    });
  }
}

/** Python `len(re.findall(pattern, text))` for a global RegExp. */
export function countMatches(re: RegExp, text: string): number {
  let n = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    n++;
    if (m[0] === "") re.lastIndex++;
  }
  return n;
}

/** Python str.isspace() for one UTF-16 code unit (all Python whitespace is in the BMP). */
function isSpaceCode(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Python str.isspace() for one character. */
export function isPySpace(ch: string): boolean {
  return ch.length === 1 ? isSpaceCode(ch.charCodeAt(0)) : WS_RE.test(ch);
}

/** Python `s.strip(chars)`; without `chars`, strips Python whitespace. */
export function pyStrip(s: string, chars?: string): string {
  return pyRstrip(pyLstrip(s, chars), chars);
}

export function pyLstrip(s: string, chars?: string): string {
  let i = 0;
  while (i < s.length && (chars === undefined ? isSpaceCode(s.charCodeAt(i)) : chars.includes(s[i]!))) i++;
  return s.slice(i);
}

export function pyRstrip(s: string, chars?: string): string {
  let j = s.length;
  while (j > 0 && (chars === undefined ? isSpaceCode(s.charCodeAt(j - 1)) : chars.includes(s[j - 1]!))) j--;
  return s.slice(0, j);
}

/** Python `s.split()` (no argument): split on whitespace runs, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(WS_RUN_RE).filter((w) => w !== "");
}

const LOWER_OR_TITLE = /[\p{Lowercase}\p{Lt}]/u;
const UPPER_OR_TITLE = /[\p{Uppercase}\p{Lt}]/u;
const UPPER = /\p{Uppercase}/u;
const LOWER = /\p{Lowercase}/u;

/** Python str.isupper(): at least one cased character, and no lowercase or titlecase one. */
export function pyIsUpper(s: string): boolean {
  return !LOWER_OR_TITLE.test(s) && UPPER.test(s);
}

/** Python str.islower(): at least one cased character, and no uppercase or titlecase one. */
export function pyIsLower(s: string): boolean {
  return !UPPER_OR_TITLE.test(s) && LOWER.test(s);
}
