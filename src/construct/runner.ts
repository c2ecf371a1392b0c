// A resumable, chunked run: items 0…n-1 processed in chunks with bounded concurrency; each chunk's records are
// appended to `<out>.partial` files and then the state file is replaced atomically (sizes, next index, funnel).
// A rerun (also after kill -9) truncates the partials to the recorded sizes and continues; finals are renamed in.

import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rename, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, DataError } from "../errors.ts";
import { writeFileAtomic } from "../io/index.ts";
import type { Reject, Trail } from "./stages.ts";

// ---- types ----

export interface StageCount {
  in: number;
  out: number;
  fixed: number;
  dropped: Record<string, number>;
}

/** Nested counters (e.g. `{relations: {add: {candidates: 3}}}`), summed over items. */
export interface Counts {
  [key: string]: number | Counts;
}

export interface Funnel {
  records_in: number;
  records_out: Record<string, number>;
  stages: Record<string, StageCount>;
  /** Further counters a run reports (groups: candidates per operation and relation, the op balance). */
  counts?: Counts;
}

export interface ItemOutput {
  /** Records per output name (e.g. `{groups: [...], dpo_pairs: [...]}`). */
  readonly out: Record<string, unknown[]>;
  readonly rejects: Reject[];
  readonly trail: Trail[];
  /** Counters to add into the funnel's `counts`. */
  readonly counts?: Counts;
}

export interface RunSpec {
  readonly dir: string;
  /** Name of the run: state file `<name>.state.json`. */
  readonly name: string;
  /** Effective config; a resume must match it exactly. */
  readonly config: unknown;
  readonly total: number;
  readonly outputs: readonly string[];
  /** File names: rejects and funnel. */
  readonly rejectsFile: string;
  readonly funnelFile: string;
  readonly stages: readonly string[];
  readonly concurrency: number;
  readonly chunk?: number;
  readonly work: (index: number) => Promise<ItemOutput>;
  readonly onProgress?: (done: number, total: number) => void;
}

interface State {
  version: 1;
  config: unknown;
  next: number;
  sizes: Record<string, number>;
  funnel: Funnel;
  done: boolean;
}

// ---- helpers ----

function emptyFunnel(stages: readonly string[], outputs: readonly string[]): Funnel {
  return {
    records_in: 0,
    records_out: Object.fromEntries(outputs.map((o) => [o, 0])),
    stages: Object.fromEntries(stages.map((s) => [s, { in: 0, out: 0, fixed: 0, dropped: {} }])),
  };
}

function account(funnel: Funnel, trail: readonly Trail[]): void {
  for (const t of trail) {
    const s = (funnel.stages[t.stage] ??= { in: 0, out: 0, fixed: 0, dropped: {} });
    s.in++;
    if (t.outcome === "drop") s.dropped[t.code ?? "unknown"] = (s.dropped[t.code ?? "unknown"] ?? 0) + 1;
    else s.out++;
    if (t.outcome === "fixed") s.fixed++;
  }
}

function addCounts(into: Counts, from: Counts): void {
  for (const [k, v] of Object.entries(from)) {
    if (typeof v === "number") into[k] = ((into[k] as number | undefined) ?? 0) + v;
    else addCounts((into[k] ??= {}) as Counts, v);
  }
}

/**
 * JSONL bytes of `lines` (one newline after each), UTF-8-encoded straight into one buffer: joining first would
 * build a chunk-sized string (two bytes a character as soon as one line has a non-Latin-1 character) and
 * encode it again, several times slower for chunks of groups.
 */
function encodeLines(lines: readonly string[]): Buffer {
  let size = 0;
  for (const l of lines) size += Buffer.byteLength(l, "utf8") + 1;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const l of lines) {
    at += out.write(l, at, "utf8");
    out[at++] = 0x0a;
  }
  return out;
}

async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

// ---- exports ----

/** Run (or resume) to completion; returns the funnel. Outputs appear only when the whole run is done. */
export async function runChunked(spec: RunSpec): Promise<Funnel> {
  await mkdir(spec.dir, { recursive: true });
  const statePath = join(spec.dir, `${spec.name}.state.json`);
  const files = [...spec.outputs.map((o) => `${o}.jsonl`), spec.rejectsFile];
  const partial = (f: string) => join(spec.dir, `${f}.partial`);
  let state: State;
  if (existsSync(statePath)) {
    try {
      state = JSON.parse(await readFile(statePath, "utf8")) as State;
    } catch (err) {
      throw new DataError("unreadable run state", {
        path: statePath,
        got: String(err),
        hint: "delete the run directory and start again",
      });
    }
    if (JSON.stringify(state.config) !== JSON.stringify(spec.config))
      throw new ConfigError("the run directory holds a run with a different configuration", {
        path: statePath,
        expected: JSON.stringify(state.config),
        got: JSON.stringify(spec.config),
        hint: "rerun with the same flags to resume, or choose a new --run directory",
      });
    if (state.done) return state.funnel;
    for (const f of files) {
      const p = partial(f);
      const size = state.sizes[f] ?? 0;
      // Killed while renaming finals into place: move them back.
      if (!existsSync(p) && existsSync(join(spec.dir, f))) await rename(join(spec.dir, f), p);
      if (!existsSync(p)) await writeFileAtomic(p, "");
      if ((await stat(p)).size > size) await truncate(p, size);
    }
  } else {
    state = {
      version: 1,
      config: spec.config,
      next: 0,
      sizes: {},
      funnel: emptyFunnel(spec.stages, spec.outputs),
      done: false,
    };
    for (const f of files) await writeFileAtomic(partial(f), "");
  }
  const chunk = spec.chunk ?? 256;
  while (state.next < spec.total) {
    const start = state.next;
    const count = Math.min(chunk, spec.total - start);
    const results = await pool(count, spec.concurrency, (k) => spec.work(start + k));
    // Lines are collected per file and encoded once per chunk (a chunk of groups is megabytes of JSON).
    const lines: Record<string, string[]> = Object.fromEntries(files.map((f) => [f, []]));
    for (const r of results) {
      state.funnel.records_in++;
      account(state.funnel, r.trail);
      if (r.counts) addCounts((state.funnel.counts ??= {}), r.counts);
      for (const o of spec.outputs)
        for (const rec of r.out[o] ?? []) {
          lines[`${o}.jsonl`]!.push(JSON.stringify(rec));
          state.funnel.records_out[o] = (state.funnel.records_out[o] ?? 0) + 1;
        }
      for (const rej of r.rejects) lines[spec.rejectsFile]!.push(JSON.stringify(rej));
    }
    for (const f of files) {
      const bytes = encodeLines(lines[f]!);
      if (bytes.length) await appendFile(partial(f), bytes);
      state.sizes[f] = (state.sizes[f] ?? 0) + bytes.length;
    }
    state.next = start + count;
    await writeFileAtomic(statePath, JSON.stringify(state));
    spec.onProgress?.(state.next, spec.total);
  }
  for (const f of files) await rename(partial(f), join(spec.dir, f));
  await writeFileAtomic(join(spec.dir, spec.funnelFile), `${JSON.stringify(state.funnel, null, 2)}\n`);
  state.done = true;
  await writeFileAtomic(statePath, JSON.stringify(state));
  return state.funnel;
}
