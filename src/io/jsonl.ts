// Streaming JSONL: read line by line with `file:line` errors (zod-validated), write atomically.
// A reader never loads a whole file; a writer writes to a temporary sibling and renames on commit,
// so an error or Ctrl-C never leaves a half-written output behind.

import { createReadStream, createWriteStream, existsSync, type WriteStream } from "node:fs";
import { appendFile, mkdir, open, readdir, rename, rm, truncate, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { z } from "zod";
import { DataError, describe } from "../errors.ts";
import { fsHint } from "./paths.ts";

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

/** The expectation of one zod issue in words (zod's own text minus its "Invalid input: " prefix). */
function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return String(issue.expected);
    case "too_small":
    case "too_big": {
      const unit = issue.origin === "array" ? " item(s)" : issue.origin === "string" ? " character(s)" : "";
      const op =
        issue.code === "too_small"
          ? issue.inclusive
            ? "at least"
            : "more than"
          : issue.inclusive
            ? "at most"
            : "less than";
      return `${op} ${String(issue.code === "too_small" ? issue.minimum : issue.maximum)}${unit}`;
    }
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return issue.message.replace(/^Invalid input: /, "");
  }
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let got: unknown = raw;
  for (const key of path) got = got && typeof got === "object" ? (got as Record<PropertyKey, unknown>)[key] : undefined;
  return got;
}

/**
 * The issue to report, with its full path. A union's "Invalid input" says nothing: pick the branch whose first
 * problem is about a value that is present (a wrong type beats a missing field), or, when every branch misses a
 * field, report them together ("messages or prompt").
 */
function explain(
  issue: z.core.$ZodIssue,
  raw: unknown,
  prefix: readonly PropertyKey[] = [],
): { path: PropertyKey[]; expected: string; got: unknown; missing: boolean; typed: boolean } {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const firsts = issue.errors.map((branch) => explain(branch[0]!, raw, path));
    const present = firsts.find((f) => !f.missing);
    if (present) return present;
    const fields = [...new Set(firsts.map((f) => f.path.join(".")))];
    if (fields.length === 1) {
      const expected = [...new Set(firsts.map((f) => f.expected))].join(" or ");
      return { ...firsts[0]!, expected };
    }
    return {
      path: [fields.join(" or ")],
      expected: firsts.map((f) => `${f.path.join(".")} (${f.expected})`).join(" or "),
      got: undefined,
      missing: true,
      typed: true,
    };
  }
  const got = valueAt(raw, path);
  return { path, expected: expectation(issue), got, missing: got === undefined, typed: issue.code === "invalid_type" };
}

/** Turn the first zod issue into a DataError naming file, line, field, expected and got. */
export function zodToDataError(
  error: z.ZodError,
  raw: unknown,
  where: { path: string; line?: number; hint?: string },
): DataError {
  const e = explain(error.issues[0]!, raw);
  const field = e.path.map(String).join(".");
  const id = raw && typeof raw === "object" && "id" in raw ? String((raw as { id: unknown }).id) : undefined;
  return new DataError(e.missing ? "missing field" : e.typed ? "wrong type" : "invalid value", {
    path: where.path,
    line: where.line,
    field: field || undefined,
    id,
    expected: e.expected,
    got: e.missing ? "nothing" : describe(e.got),
    hint: where.hint,
  });
}

/** Drop a leading UTF-8 byte-order mark (editors on Windows add one; JSON.parse rejects it invisibly). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Yield the raw lines of a text file with 1-based numbers, streaming. Blank lines are skipped. */
export async function* readLines(path: string): AsyncGenerator<{ line: number; text: string }> {
  const stream = createReadStream(path, { encoding: "utf8" });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 ? stripBom(raw) : raw;
      if (text.trim() === "") continue;
      yield { line, text };
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError("cannot read file", {
      path,
      cause: err,
      expected: "a readable file",
      got: (err as Error).message ?? String(err),
      hint: fsHint((err as NodeJS.ErrnoException).code),
    });
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

/** The 1-based line of a JSON.parse error ("… at position 17 …"), or 1. */
function lineOf(text: string, message: string): number {
  const m = /position (\d+)/.exec(message);
  return m ? text.slice(0, Number(m[1])).split("\n").length : 1;
}

/** Read a whole (small) JSON file and validate it. */
export async function readJsonFile<S extends z.ZodType>(path: string, schema: S, hint?: string): Promise<z.infer<S>> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new DataError("cannot read file", {
      path,
      expected: "an existing JSON file",
      got: (err as Error).message ?? String(err),
      hint: hint ?? fsHint((err as NodeJS.ErrnoException).code),
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(stripBom(text));
  } catch (err) {
    throw new DataError("malformed JSON", {
      path,
      line: lineOf(stripBom(text), (err as Error).message),
      expected: "one JSON value (the whole file)",
      got: (err as Error).message,
      hint:
        hint ??
        "fix the JSON (quotes around keys and strings, no trailing commas), e.g. check it with `node -e 'JSON.parse(require(\"fs\").readFileSync(process.argv[1]))' <file>`",
    });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw zodToDataError(parsed.error, raw, { path, hint });
  return parsed.data;
}

/**
 * Make an append-only JSONL file end on a whole line: a process killed mid-append leaves a torn last line
 * without its newline, and appending to it would glue the next record onto it. Truncates the file after its
 * last newline; returns the bytes dropped (0 for a missing, empty or whole file). Reads only the tail.
 */
export async function repairJsonlTail(path: string): Promise<number> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw err;
  }
  let keep = 0;
  let size = 0;
  try {
    size = (await fh.stat()).size;
    const block = Buffer.allocUnsafe(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await fh.read(block, 0, end - start, start);
      const at = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (at >= 0) {
        keep = start + at + 1;
        break;
      }
      end = start;
    }
  } finally {
    await fh.close();
  }
  if (keep === size) return 0;
  await truncate(path, keep);
  return size - keep;
}

/**
 * An append-only JSONL file that survives kill -9: opening it cuts a torn last line (see repairJsonlTail), and
 * each `append` writes whole lines. A reader of the file after a crash sees only whole records.
 */
export class JsonlAppender {
  /** Bytes of a torn last line cut off when opened. */
  repaired = 0;
  private constructor(readonly path: string) {}

  static async open(path: string): Promise<JsonlAppender> {
    await mkdir(dirname(path), { recursive: true });
    const appender = new JsonlAppender(path);
    appender.repaired = await repairJsonlTail(path);
    return appender;
  }

  /** Append records, one JSON line each, in one write call. */
  async append(records: readonly unknown[]): Promise<void> {
    if (records.length === 0) return;
    await appendFile(this.path, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  }
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
 * Write a whole directory atomically: `fill` writes into a temp sibling, which then replaces `dir` (an existing `dir`
 * is moved aside and removed only after the rename succeeded); the temp sibling is removed when anything fails.
 */
export async function writeDirAtomic(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = join(parent, `.${basename(dir)}.tmp-${stamp}`);
  const old = join(parent, `.${basename(dir)}.old-${stamp}`);
  try {
    await mkdir(tmp);
    await fill(tmp);
    const had = existsSync(dir);
    if (had) await rename(dir, old);
    await rename(tmp, dir);
    if (had) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Whether process `pid` is alive (EPERM: alive, another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove `<path>.tmp-<pid>-<ms>` siblings left by writers that were killed (kill -9 leaves its temp file behind);
 * a temp file of a live process is left alone.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const prefix = `${basename(path)}.tmp-`;
  const removed: string[] = [];
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-\d+$/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    await rm(join(dirname(path), name), { force: true });
    removed.push(name);
  }
  return removed;
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
    await removeStaleTemps(this.path);
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
