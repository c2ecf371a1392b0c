// The official TRACE evaluation-set format (`trace_eval.jsonl`): one instruction per line with its user message,
// constraint lines and their Chinese taxonomy labels (`levels2`). Reading maps labels to dimensions, keeping unknown ones.

import { z } from "zod";
import { dimension, findDimension, type Instruction } from "../../schema/index.ts";
import { readJsonl, writeJsonlAtomic } from "../jsonl.ts";
import { renderTracePrompt } from "../layout.ts";
import type { Format, Item } from "./item.ts";

const MessageSchema = z.object({ role: z.string(), content: z.string() });

export const TraceLineSchema = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    messages: z.array(MessageSchema).optional(),
    type: z.string().optional(),
    description: z.string(),
    constraints: z.string().optional(),
    input: z.string(),
    constraints_num: z.number().int().nonnegative().optional(),
    constraints_splits: z.array(z.string()),
    levels2: z.array(z.string()).optional(),
    category: z.string().optional(),
  })
  .refine((r) => !r.levels2 || r.levels2.length === r.constraints_splits.length, {
    message: "levels2 must have one label per constraint",
    path: ["levels2"],
  });
export type TraceLine = z.infer<typeof TraceLineSchema>;

const HAN = /[\u3400-\u9fff]/;

/** "zh" when the text has Han characters, else "en" (TRACE holds only these two). */
export function guessLang(text: string): string {
  return HAN.test(text) ? "zh" : "en";
}

/** One TRACE line → a structured instruction. Labels outside the taxonomy are kept in `label`. */
export function fromTraceLine(r: TraceLine): Instruction {
  const constraints = r.constraints_splits.map((text, i) => {
    const raw = r.levels2?.[i];
    if (raw === undefined) return { text };
    const dim = findDimension(raw);
    return dim ? { text, type: dim.name as Instruction["constraints"][number]["type"] } : { text, label: raw };
  });
  const input = r.input === "NULL" ? null : r.input;
  const meta = r.category !== undefined ? { category: r.category } : undefined;
  return {
    id: r.id,
    description: r.description,
    constraints,
    input,
    lang: guessLang(r.description),
    ...(meta && { meta }),
  };
}

/** A structured instruction → one TRACE line (system prompt as in the official file). */
export function toTraceLine(instruction: Instruction): TraceLine {
  const splits = instruction.constraints.map((c) => c.text);
  return {
    id: instruction.id,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: renderTracePrompt(instruction) },
    ],
    type: "trace",
    description: instruction.description,
    constraints: splits.join("\n"),
    input: instruction.input ?? "NULL",
    constraints_num: splits.length,
    constraints_splits: splits,
    levels2: instruction.constraints.map((c) => (c.type ? dimension(c.type).zh : (c.label ?? ""))),
    category: typeof instruction.meta?.category === "string" ? instruction.meta.category : "trace1.0",
  };
}

export const traceFormat: Format = {
  description: "TRACE evaluation set (trace_eval.jsonl): instructions with constraint labels",
  kinds: ["instruction"],
  async *read(path, options) {
    for await (const { line, value } of readJsonl(path, TraceLineSchema, options)) {
      yield { kind: "instruction", value: fromTraceLine(value), line } satisfies Item;
    }
  },
  async write(path, items) {
    async function* lines() {
      for await (const item of items) if (item.kind === "instruction") yield toTraceLine(item.value);
    }
    return { written: await writeJsonlAtomic(path, lines()), extra: [] };
  },
};
