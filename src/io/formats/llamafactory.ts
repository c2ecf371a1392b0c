// LLaMA-Factory datasets in the sharegpt layout: IOPO (two human turns x1, x2; chosen = y1, rejected = y2),
// DPO ranking (one human turn; chosen, rejected) and SFT (human, gpt). Reads `.json` arrays or `.jsonl`;
// writes the same and registers the dataset in a `dataset_info.json` beside the output.

import { readFile } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { z } from "zod";
import { DataError, describe } from "../../errors.ts";
import type { Instruction } from "../../schema/index.ts";
import { readJsonArrayElements } from "../json-array.ts";
import {
  AtomicJsonlWriter,
  parseJsonLine,
  type ReadOptions,
  readLines,
  stripBom,
  writeFileAtomic,
  zodToDataError,
} from "../jsonl.ts";
import { parseTracePrompt, renderTracePrompt } from "../layout.ts";
import type { Format, Item } from "./item.ts";
import { guessLang } from "./trace.ts";

// ---- schemas ----

const TurnSchema = z.object({ from: z.string(), value: z.string() });

export const LlamaFactoryRecordSchema = z.object({
  conversations: z.array(TurnSchema).min(1),
  chosen: TurnSchema.optional(),
  rejected: TurnSchema.optional(),
  system: z.string().optional(),
});
export type LlamaFactoryRecord = z.infer<typeof LlamaFactoryRecordSchema>;

// ---- helpers ----

/** A prompt in the TRACE layout → instruction; any other prompt becomes a description with no constraints. */
export function instructionFromPrompt(id: string, prompt: string): Instruction {
  const lang = guessLang(prompt);
  if (!prompt.endsWith("\n")) return { id, description: prompt, constraints: [], input: null, lang };
  const parsed = parseTracePrompt(prompt);
  const constraints = parsed.constraints.map((text) => ({ text }));
  return { id, description: parsed.description, constraints, input: parsed.input, lang };
}

const human = (value: string) => ({ from: "human", value });
const gpt = (value: string) => ({ from: "gpt", value });

function toItem(r: LlamaFactoryRecord, id: string, line: number, path: string): Item {
  const humans = r.conversations.filter((t) => t.from === "human" || t.from === "user");
  if (r.chosen && r.rejected) {
    if (r.conversations.length === 2 && humans.length === 2) {
      const x1 = instructionFromPrompt(`${id}/x1`, humans[0]!.value);
      const x2 = instructionFromPrompt(`${id}/x2`, humans[1]!.value);
      const value = {
        id,
        x1,
        y1: r.chosen.value,
        x2,
        y2: r.rejected.value,
        lineage: { source_ids: [], origin: "llamafactory" },
      };
      return { kind: "group", value, line };
    }
    if (r.conversations.length === 1 && humans.length === 1) {
      const instruction = instructionFromPrompt(id, humans[0]!.value);
      const value = {
        id,
        instruction,
        chosen: r.chosen.value,
        rejected: r.rejected.value,
        lineage: { source_ids: [], origin: "llamafactory" },
      };
      return { kind: "pair", value, line };
    }
  } else if (r.conversations.length === 2 && humans.length === 1 && r.conversations[0] === humans[0]) {
    const instruction = instructionFromPrompt(id, humans[0]!.value);
    const value = {
      id,
      instruction,
      response: r.conversations[1]!.value,
      lineage: { source_ids: [], origin: "llamafactory" },
    };
    return { kind: "example", value, line };
  }
  throw new DataError("unrecognised LLaMA-Factory record", {
    path,
    line,
    field: "conversations",
    expected:
      "IOPO (two human turns + chosen/rejected), DPO ranking (one human turn + chosen/rejected) or SFT (human, gpt)",
    got: `${r.conversations.length} turns (${r.conversations.map((t) => t.from).join(", ")})${r.chosen ? " with chosen/rejected" : ""}`,
  });
}

/** One item → its LLaMA-Factory record. */
export function toLlamaFactoryRecord(item: Item): LlamaFactoryRecord {
  switch (item.kind) {
    case "group": {
      const g = item.value;
      return {
        conversations: [human(renderTracePrompt(g.x1)), human(renderTracePrompt(g.x2))],
        chosen: gpt(g.y1),
        rejected: gpt(g.y2),
      };
    }
    case "pair": {
      const p = item.value;
      return {
        conversations: [human(renderTracePrompt(p.instruction))],
        chosen: gpt(p.chosen),
        rejected: gpt(p.rejected),
      };
    }
    case "example":
      return { conversations: [human(renderTracePrompt(item.value.instruction)), gpt(item.value.response)] };
    case "instruction":
      throw new DataError("LLaMA-Factory datasets need responses", {
        id: item.value.id,
        expected: "an example, pair or group",
        got: "an instruction",
      });
  }
}

/** The dataset_info.json entry LLaMA-Factory needs for a file of this kind. */
export function datasetInfoEntry(fileName: string, kind: Item["kind"]): Record<string, unknown> {
  if (kind === "example")
    return { file_name: fileName, formatting: "sharegpt", columns: { messages: "conversations" } };
  return {
    file_name: fileName,
    ranking: true,
    formatting: "sharegpt",
    columns: { messages: "conversations", chosen: "chosen", rejected: "rejected" },
  };
}

/**
 * Read the dataset_info.json beside `outPath` (an empty object when there is none). Called before the data file is
 * written, so a broken one stops the conversion with nothing written.
 */
async function readDatasetInfo(outPath: string): Promise<Record<string, unknown>> {
  const infoPath = join(dirname(outPath), "dataset_info.json");
  let text: string;
  try {
    text = await readFile(infoPath, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new DataError("cannot read dataset_info.json", {
      path: infoPath,
      expected: "a readable JSON object",
      got: (err as Error).message,
      hint: "fix its permissions, or write --out into another directory",
    });
  }
  const hint = `LLaMA-Factory's dataset_info.json maps dataset names to entries; fix ${infoPath} or move it away`;
  let info: unknown;
  try {
    info = JSON.parse(stripBom(text));
  } catch (err) {
    throw new DataError("dataset_info.json is not valid JSON", {
      path: infoPath,
      expected: "a JSON object",
      got: (err as Error).message,
      hint,
    });
  }
  if (info === null || typeof info !== "object" || Array.isArray(info))
    throw new DataError("dataset_info.json is not a JSON object", {
      path: infoPath,
      expected: 'a JSON object {"<dataset>": {...}}',
      got: describe(info),
      hint,
    });
  return info as Record<string, unknown>;
}

async function updateDatasetInfo(outPath: string, info: Record<string, unknown>, kind: Item["kind"]): Promise<string> {
  const infoPath = join(dirname(outPath), "dataset_info.json");
  const file = basename(outPath);
  info[file.slice(0, file.length - extname(file).length)] = datasetInfoEntry(file, kind);
  await writeFileAtomic(infoPath, `${JSON.stringify(info, null, 2)}\n`);
  return infoPath;
}

async function* records(path: string): AsyncGenerator<{ line: number; text: string }> {
  if (path.endsWith(".jsonl")) yield* readLines(path);
  else yield* readJsonArrayElements(path);
}

// ---- format ----

export const llamaFactoryFormat: Format = {
  description:
    "LLaMA-Factory sharegpt datasets (.json array or .jsonl): IOPO, DPO ranking, SFT; writes dataset_info.json",
  kinds: ["group", "pair", "example"],
  async *read(path: string, options: ReadOptions) {
    const stem = basename(path).replace(/\.jsonl?$/, "");
    let index = 0;
    for await (const { line, text } of records(path)) {
      index++;
      try {
        const raw = parseJsonLine(text, path, line, options.hint);
        const parsed = LlamaFactoryRecordSchema.safeParse(raw);
        if (!parsed.success) throw zodToDataError(parsed.error, raw, { path, line, hint: options.hint });
        yield toItem(parsed.data, `${stem}-${index}`, line, path);
      } catch (err) {
        if (!options.skipInvalid || !(err instanceof DataError)) throw err;
        options.skipped?.push({ line, message: err.message });
      }
    }
  },
  async write(path, items) {
    const asArray = !path.endsWith(".jsonl");
    const info = await readDatasetInfo(path);
    const writer = await new AtomicJsonlWriter(path).open();
    let kind: Item["kind"] | undefined;
    try {
      if (asArray) await writer.writeRaw("[");
      for await (const item of items) {
        if (kind && item.kind !== kind) {
          throw new DataError("one LLaMA-Factory file holds one kind of record", {
            id: item.value.id,
            expected: kind,
            got: item.kind,
          });
        }
        kind = item.kind;
        const record = toLlamaFactoryRecord(item);
        if (!asArray) await writer.write(record);
        else
          await writer.writeRaw(
            `${writer.written ? "," : ""}\n${JSON.stringify(record, null, 2).replace(/^/gm, "  ")}`,
            1,
          );
      }
      if (asArray) await writer.writeRaw("\n]\n");
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    const extra = kind ? [await updateDatasetInfo(path, info, kind)] : [];
    return { written: writer.written, extra };
  },
};
