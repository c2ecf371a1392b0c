// TRL datasets, conversational form: preference `{prompt, chosen, rejected}` (lists of messages) and SFT
// `{messages}`. Reading also accepts TRL's standard (plain string) preference and `{prompt, completion}` forms.

import { basename } from "node:path";
import { z } from "zod";
import { DataError } from "../../errors.ts";
import { readJsonl, writeJsonlAtomic } from "../jsonl.ts";
import { renderTracePrompt } from "../layout.ts";
import type { Format, Item } from "./item.ts";
import { instructionFromPrompt } from "./llamafactory.ts";

const MessageSchema = z.object({ role: z.string(), content: z.string() });
const TextOrMessages = z.union([z.string(), z.array(MessageSchema)]);

export const TrlRecordSchema = z.union([
  z.object({ prompt: TextOrMessages, chosen: TextOrMessages, rejected: TextOrMessages }),
  z.object({ messages: z.array(MessageSchema).min(2) }),
  z.object({ prompt: TextOrMessages, completion: TextOrMessages }),
]);
export type TrlRecord = z.infer<typeof TrlRecordSchema>;

function text(value: string | { role: string; content: string }[], role: string): string {
  if (typeof value === "string") return value;
  const turns = value.filter((m) => m.role === role);
  return turns.length > 0 ? turns[turns.length - 1]!.content : "";
}

function toItem(r: TrlRecord, id: string, line: number): Item {
  const lineage = { source_ids: [], origin: "trl" };
  if ("chosen" in r) {
    const instruction = instructionFromPrompt(id, text(r.prompt, "user"));
    return {
      kind: "pair",
      value: { id, instruction, chosen: text(r.chosen, "assistant"), rejected: text(r.rejected, "assistant"), lineage },
      line,
    };
  }
  if ("messages" in r) {
    const instruction = instructionFromPrompt(id, text(r.messages, "user"));
    return { kind: "example", value: { id, instruction, response: text(r.messages, "assistant"), lineage }, line };
  }
  const instruction = instructionFromPrompt(id, text(r.prompt, "user"));
  return { kind: "example", value: { id, instruction, response: text(r.completion, "assistant"), lineage }, line };
}

/** One item → a TRL record (conversational form). */
export function toTrlRecord(item: Item): TrlRecord {
  const user = (content: string) => ({ role: "user", content });
  const assistant = (content: string) => ({ role: "assistant", content });
  switch (item.kind) {
    case "pair": {
      const p = item.value;
      return {
        prompt: [user(renderTracePrompt(p.instruction))],
        chosen: [assistant(p.chosen)],
        rejected: [assistant(p.rejected)],
      };
    }
    case "example":
      return { messages: [user(renderTracePrompt(item.value.instruction)), assistant(item.value.response)] };
    default:
      throw new DataError("TRL has no format for this record", {
        id: item.value.id,
        expected: "a DPO pair or an SFT example",
        got: item.kind,
        hint: "IOPO groups can be written as `groups` or `llamafactory`",
      });
  }
}

export const trlFormat: Format = {
  description: "TRL JSONL, conversational: preference {prompt, chosen, rejected} or SFT {messages}",
  kinds: ["pair", "example"],
  async *read(path, options) {
    const stem = basename(path).replace(/\.jsonl?$/, "");
    for await (const { line, value } of readJsonl(path, TrlRecordSchema, options))
      yield toItem(value, `${stem}-${line}`, line);
  },
  async write(path, items) {
    async function* lines() {
      for await (const item of items) yield toTrlRecord(item);
    }
    return { written: await writeJsonlAtomic(path, lines()), extra: [] };
  },
};
