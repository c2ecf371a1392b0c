// Streaming JSONL: read line by line with `file:line` errors (zod-validated), write atomically.
// A reader never loads a whole file; a writer writes to a temporary sibling and renames on commit,
// so an error or Ctrl-C never leaves a half-written output behind.

import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { z } from "zod";
import { DataError, describe } from "../errors.ts";

// ---- types ----

export interface JsonlRecord<T> {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly value: T;
}

export interface Skipped {
  readonly line: number;
  readonly message: string;
}

export interface ReadOptions {
  /** Continue past invalid lines, recording them in `skipped` instead of throwing. */
  readonly skipInvalid?: boolean;
  /** Collects skipped lines when `skipInvalid` is set. */
  readonly skipped?: Skipped[];
  /** Hint appended to errors. */
  readonly hint?: string;
}

// ---- helpers ----

/** Turn the first zod issue into a DataError naming file, line, field, expected and got. */
export function zodToDataError(
  error: z.ZodError,
  raw: unknown,
  where: { path: string; line?: number; hint?: string },
): DataError {
  const issue = error.issues[0]!;
  const field = issue.path.join(".");
  let got: unknown = raw;
  for (const key of issue.path)
    got = got && typeof got === "object" ? (got as Record<PropertyKey, unknown>)[key] : undefined;
  const id = raw && typeof raw === "object" && "id" in raw ? String((raw as { id: unknown }).id) : undefined;
  const missing = got === undefined;
  const typed = issue.code === "invalid_type";
  return new DataError(missing ? "missing field" : typed ? "wrong type" : "invalid value", {
    path: where.path,
    line: where.line,
    field: field || undefined,
    id,
    expected: typed ? String(issue.expected) : issue.message,
    got: missing ? "nothing" : describe(got),
    hint: where.hint,
  });
}

/** Yield the raw lines of a text file with 1-based numbers, streaming. Blank lines are skipped. */
export async function* readLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  const stream = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === "") continue;
      yield { line, text };
    }
  } catch (err) {
    throw new DataError("cannot read file", { path, cause: err, expected: "a readable file", got: String(err) });
  }
}

// ---- exports ----

/** Parse one JSON line, throwing a DataError that names the file and line. */
export function parseJsonLine(text: string, path: string, line: number, hint?: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataError("malformed JSON", {
      path,
      line,
      expected: "one JSON object per line",
      got: (err as Error).message,
      hint,
    });
  }
}

/**
 * Stream a JSONL file, validating each line with `schema`. Throws a DataError at the first bad line,
 * or with `skipInvalid` records it in `options.skipped` and continues.
 */
export async function* readJsonl<S extends z.ZodType>(
  path: string,
  schema: S,
  options: ReadOptions = {},
): AsyncGenerator<JsonlRecord<z.infer<S>>> {
  for await (const { line, text } of readLines(path)) {
    try {
      const raw = parseJsonLine(text, path, line, options.hint);
      const parsed = schema.safeParse(raw);
      if (!parsed.success) throw zodToDataError(parsed.error, raw, { path, line, hint: options.hint });
      yield { line, value: parsed.data };
    } catch (err) {
      if (!options.skipInvalid || !(err instanceof DataError)) throw err;
      options.skipped?.push({ line, message: err.message });
    }
  }
}

/** Read a whole (small) JSON file and validate it. */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S, hint?: string): Promise<z.infer<S>> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new DataError("cannot read file", { path, expected: "an existing JSON file", got: String(err), hint });
  }
  const raw = parseJsonLine(text, path, 1, hint);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw zodToDataError(parsed.error, raw, { path, hint });
  return parsed.data;
}

/** Write a whole file atomically: temp sibling, then rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * A JSONL writer that becomes visible at `path` only when `commit()` succeeds. `abort()` (or a crash)
 * leaves any previous file at `path` untouched. Respects stream back-pressure.
 */
export class AtomicJsonlWriter {
  readonly path: string;
  private readonly tmp: string;
  private stream: WriteStream | undefined;
  private count = 0;

  constructor(path: string) {
    this.path = path;
    this.tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  }

  /** Records written so far. */
  get written(): number {
    return this.count;
  }

  async open(): Promise<this> {
    await mkdir(dirname(this.path), { recursive: true });
    this.stream = createWriteStream(this.tmp, { encoding: "utf8" });
    await new Promise<void>((resolve, reject) => {
      this.stream!.once("open", () => resolve());
      this.stream!.once("error", reject);
    });
    return this;
  }

  /** Append one record as a JSON line. */
  async write(record: unknown): Promise<void> {
    await this.writeRaw(`${JSON.stringify(record)}\n`, 1);
  }

  /** Append raw text holding `records` records (for formats that are not JSONL, e.g. a streamed JSON array). */
  async writeRaw(text: string, records = 0): Promise<void> {
    this.count += records;
    if (!this.stream) throw new DataError("writer is not open", { path: this.path });
    if (!this.stream.write(text)) {
      await new Promise<void>((resolve) => this.stream!.once("drain", () => resolve()));
    }
  }

  async commit(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    this.stream = undefined;
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await new Promise<void>((resolve) => stream.end(() => resolve()));
    await rm(this.tmp, { force: true });
  }
}

/** Write records to `path` atomically; on any error the temp file is removed and the error rethrown. */
export async function writeJsonlAtomic(
  path: string,
  records: AsyncIterable<unknown> | Iterable<unknown>,
): Promise<number> {
  const writer = await new AtomicJsonlWriter(path).open();
  try {
    for await (const record of records) await writer.write(record);
    await writer.commit();
    return writer.written;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}
