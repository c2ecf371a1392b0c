// Streaming reader for a top-level JSON array (LLaMA-Factory's `.json` datasets): yields one element at a time
// with the line it starts on, without loading the file whole. Writing the array streams through AtomicJsonlWriter-like code.

import { createReadStream } from "node:fs";
import { DataError } from "../errors.ts";

/** Yield `{line, text}` for each element of the top-level JSON array in `path` (text is the element's JSON). */
export async function* readJsonArrayElements(path: string): AsyncGenerator<{ line: number; text: string }> {
  const stream = createReadStream(path, { encoding: "utf8" });
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let finished = false;
  let element: string[] = [];
  let elementLine = 0;
  let chunkStart = -1;
  for await (const chunk of stream as AsyncIterable<string>) {
    chunkStart = elementLine > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (ch === "\n") line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === "\\") escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") continue;
      if (finished)
        throw new DataError("unexpected text after the JSON array", { path, line, expected: "end of file" });
      if (!started) {
        if (ch !== "[") {
          throw new DataError("not a JSON array", { path, line, expected: "a file starting with '['", got: `'${ch}'` });
        }
        started = true;
        depth = 1;
        continue;
      }
      if (depth === 1 && (ch === "," || ch === "]")) {
        if (elementLine > 0) {
          element.push(chunk.slice(chunkStart, i));
          yield { line: elementLine, text: element.join("") };
          element = [];
          elementLine = 0;
          chunkStart = -1;
        }
        if (ch === "]") {
          finished = true;
          depth = 0;
        }
        continue;
      }
      if (depth === 1 && elementLine === 0) {
        elementLine = line;
        chunkStart = i;
      }
      if (ch === '"') inString = true;
      else if (ch === "{" || ch === "[") depth++;
      else if (ch === "}" || ch === "]") depth--;
    }
    if (elementLine > 0 && chunkStart >= 0) element.push(chunk.slice(chunkStart));
  }
  if (!finished) {
    throw new DataError("unterminated JSON array", { path, line, expected: "a closing ']'", got: "end of file" });
  }
}
