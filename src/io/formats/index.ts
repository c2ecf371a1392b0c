// Format registry and conversion: read any supported file as Items, coerce kinds, write in another format.
// Names: trace, llamafactory, trl, groups, pairs, sft, instructions.

import { open } from "node:fs/promises";
import { ConfigError, DataError } from "../../errors.ts";
import type { ReadOptions } from "../jsonl.ts";
import { fileError } from "../paths.ts";
import type { Format, Item, ItemKind, WriteResult } from "./item.ts";
import { llamaFactoryFormat } from "./llamafactory.ts";
import { groupsFormat, instructionsFormat, pairsFormat, sftFormat } from "./project.ts";
import { traceFormat } from "./trace.ts";
import { trlFormat } from "./trl.ts";

export type { Format, Item, ItemKind, WriteResult } from "./item.ts";
export { datasetInfoEntry, instructionFromPrompt, toLlamaFactoryRecord } from "./llamafactory.ts";
export { fromTraceLine, guessLang, TraceLineSchema, toTraceLine } from "./trace.ts";
export { toTrlRecord } from "./trl.ts";

export const FORMATS = {
  trace: traceFormat,
  llamafactory: llamaFactoryFormat,
  trl: trlFormat,
  groups: groupsFormat,
  pairs: pairsFormat,
  sft: sftFormat,
  instructions: instructionsFormat,
} as const satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;
export const FORMAT_NAMES = Object.keys(FORMATS) as FormatName[];

/** The named format, or a ConfigError listing the valid names. */
export function getFormat(name: string): Format {
  if (name in FORMATS) return FORMATS[name as FormatName];
  throw new ConfigError(`unknown format "${name}"`, {
    expected: `one of ${FORMAT_NAMES.join(", ")}`,
    got: JSON.stringify(name),
    hint: "format names are lower-case; leave out --from to have the input's format detected",
  });
}

/** Guess a file's format from its first record's keys; `flag` is the option that names it explicitly. */
export async function detectFormat(path: string, flag = "--from"): Promise<FormatName> {
  let head = "";
  try {
    const file = await open(path, "r");
    try {
      const buffer = Buffer.alloc(256 * 1024);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await file.close();
    }
  } catch (err) {
    throw fileError(err, path, "a readable data file");
  }
  const start = head.replace(/^\uFEFF/, "").trimStart();
  if (start === "")
    throw new DataError("the file is empty", {
      path,
      expected: `records of one of: ${FORMAT_NAMES.join(", ")}`,
      got: "no records",
      hint: "check the path; a data file holds one record per line (or a JSON array)",
    });
  if (start.startsWith("[")) return "llamafactory";
  const has = (key: string) => head.includes(`"${key}"`);
  if (has("constraints_splits")) return "trace";
  if (has("conversations")) return "llamafactory";
  if (has("x1") && has("y2")) return "groups";
  if (has("instruction") && has("chosen")) return "pairs";
  if (has("instruction") && has("response")) return "sft";
  if (has("chosen") || has("messages") || has("completion")) return "trl";
  if (has("description") && has("constraints")) return "instructions";
  throw new DataError("cannot tell the file's format", {
    path,
    expected: `records of one of: ${FORMAT_NAMES.join(", ")}`,
    hint: `pass ${flag} <format>`,
  });
}

/**
 * Turn an item into one of `kinds`, or throw naming what cannot be done. Allowed: an example or pair → its
 * instruction; a pair → an SFT example with the chosen response.
 */
export function coerce(item: Item, kinds: readonly ItemKind[], path?: string): Item {
  if (kinds.includes(item.kind)) return item;
  if (kinds.includes("instruction") && (item.kind === "example" || item.kind === "pair")) {
    return { kind: "instruction", value: item.value.instruction, line: item.line };
  }
  if (kinds.includes("example") && item.kind === "pair") {
    const p = item.value;
    return {
      kind: "example",
      value: { id: p.id, instruction: p.instruction, response: p.chosen, lineage: p.lineage },
      line: item.line,
    };
  }
  throw new DataError(`cannot convert a ${item.kind} record`, {
    path,
    line: item.line,
    id: item.value.id,
    expected: `a record the target holds (${kinds.join(", ")})`,
    got: item.kind,
  });
}

/** Read `path` as `from` and write it to `out` as `to`; returns counts. */
export async function convert(
  path: string,
  from: FormatName,
  to: FormatName,
  out: string,
  options: ReadOptions = {},
): Promise<WriteResult> {
  const target = FORMATS[to];
  async function* items() {
    for await (const item of FORMATS[from].read(path, options)) yield coerce(item, target.kinds, path);
  }
  return target.write(out, items());
}
