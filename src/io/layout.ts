// The TRACE prompt layout, both directions:
//   description + "\n" + constraints.join("\n") + "\n" + ("# Inputs:\n" + input + "\n" if input)
// Constraint texts are kept verbatim (TRACE's carry their own "1. " numbers); `renumber` writes fresh ones.

import { DataError } from "../errors.ts";
import type { Instruction } from "../schema/index.ts";

// ---- types ----

export interface ParsedPrompt {
  readonly description: string;
  readonly constraints: string[];
  readonly input: string | null;
}

export interface ParseOptions {
  /** The number of constraints, when known (e.g. TRACE's `constraints_num`): makes ambiguous prompts exact. */
  readonly count?: number;
}

// ---- helpers ----

const INPUT_MARK = "\n# Inputs:\n";
/** "3. text", "3、text", "3.text": number and separator; "1.3 text" is not a numbered start. */
const NUMBERED = /^(\d+)([.、．])(?!\d)/;

interface Start {
  readonly n: number;
  /** The separator, "." or "、" — constraints of one prompt share it. */
  readonly style: string;
}

function startOf(line: string): Start | undefined {
  const m = NUMBERED.exec(line);
  return m ? { n: Number(m[1]), style: m[2]! } : undefined;
}

interface Grouping {
  readonly groups: string[];
  /** Continuation lines restart the numbering (a later "1." then "2."): this start was a false one. */
  readonly restarted: boolean;
}

/** Group lines[s…] into numbered constraints 1, 2, 3 … in the style of line s; other lines continue the last. */
function groupFrom(lines: string[], s: number): Grouping {
  const style = startOf(lines[s]!)!.style;
  const groups = [lines[s]!];
  let restarted = false;
  let sawOne = false;
  for (let i = s + 1; i < lines.length; i++) {
    const line = lines[i]!;
    const st = startOf(line);
    const same = st !== undefined && st.style === style;
    if (same && st.n === groups.length + 1) groups.push(line);
    else groups[groups.length - 1] += `\n${line}`;
    // A "1." then a "2." inside the constraints: numbering restarted, so this reading began too early.
    if (same && st.n === 1) sawOne = true;
    if (same && st.n === 2 && sawOne) restarted = true;
  }
  return { groups, restarted };
}

/**
 * Split into a description and exactly `n` numbered constraints, choosing for k = n…1 the last line numbered k
 * before constraint k+1 (for prompts whose constraints quote numbered text). Undefined if impossible.
 */
function latestStarts(lines: string[], n: number): { s: number; g: Grouping } | undefined {
  const starts: number[] = [];
  let end = lines.length;
  for (let k = n; k >= 1; k--) {
    let at = end - 1;
    while (at >= 1 && startOf(lines[at]!)?.n !== k) at--;
    if (at < 1) return undefined;
    starts.unshift(at);
    end = at;
  }
  const groups = starts.map((s, j) => lines.slice(s, starts[j + 1] ?? lines.length).join("\n"));
  return { s: starts[0]!, g: { groups, restarted: false } };
}

// ---- exports ----

/** Render a structured instruction as a TRACE-layout user prompt (exact inverse of `parseTracePrompt`). */
export function renderTracePrompt(instruction: Pick<Instruction, "description" | "constraints" | "input">): string {
  const constraints = instruction.constraints.map((c) => c.text).join("\n");
  const input = instruction.input !== null ? `# Inputs:\n${instruction.input}\n` : "";
  return `${instruction.description}\n${constraints}\n${input}`;
}

/**
 * Parse a TRACE-layout prompt back into description, constraint texts and input.
 * Numbered constraints ("1. …", possibly spanning lines) are grouped by their numbers; unnumbered ones are one
 * per line. Pass `count` when known: it settles prompts whose description or constraints contain numbered lines.
 */
export function parseTracePrompt(prompt: string, options: ParseOptions = {}): ParsedPrompt {
  if (!prompt.endsWith("\n")) {
    throw new DataError("prompt is not in the TRACE layout", {
      expected: "text ending in a newline (description, constraints, optional '# Inputs:' block)",
      got: `text ending in ${JSON.stringify(prompt.slice(-10))}`,
    });
  }
  const body = prompt.slice(0, -1);
  const mark = body.indexOf(INPUT_MARK);
  const head = mark >= 0 ? body.slice(0, mark) : body;
  const input = mark >= 0 ? body.slice(mark + INPUT_MARK.length) : null;
  const lines = head.split("\n");
  if (lines.length === 1) return { description: lines[0]!, constraints: [], input };

  // Numbered readings, one per line that could be constraint 1; the first that fits wins.
  const count = options.count;
  const readings: { s: number; g: Grouping }[] = [];
  for (let i = 1; i < lines.length; i++)
    if (startOf(lines[i]!)?.n === 1) readings.push({ s: i, g: groupFrom(lines, i) });
  const fits = (r: { g: Grouping }) => count === undefined || r.g.groups.length === count;
  const pick =
    readings.find((r) => !r.g.restarted && fits(r)) ??
    readings.find(fits) ??
    (count !== undefined && count > 0 ? latestStarts(lines, count) : undefined);
  if (pick) return { description: lines.slice(0, pick.s).join("\n"), constraints: pick.g.groups, input };
  // The unnumbered reading: one constraint per line; with a count, the last `count` lines.
  const split = count !== undefined ? Math.max(1, lines.length - count) : 1;
  return { description: lines.slice(0, split).join("\n"), constraints: lines.slice(split), input };
}

/** Replace any leading "N." on each constraint text with its 1-based position: "1. …", "2. …". */
export function renumber(texts: readonly string[]): string[] {
  return texts.map((t, i) => `${i + 1}. ${t.replace(/^\s*\d+[.、．]\s*/, "")}`);
}
