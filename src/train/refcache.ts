// The reference log-prob cache: one JSONL file per reference model (named by a hash of its config and weights),
// one line per scored sequence keyed by a hash of its prompt and response ids. Computed once before training, so a
// second run, a resumed run, or DPO and IOPO over shared (x1,y1)/(x1,y2) sequences do no reference forward again.

import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError } from "../errors.ts";
import type { ModelConfig, ModelParams } from "../model/index.ts";
import type { ScoredSequence } from "../model/llama.ts";

// ---- types ----

export interface RefStats {
  /** Sequences scored by a reference forward in this run. */
  readonly computed: number;
  /** Sequences found in the cache. */
  readonly cached: number;
}

// ---- exports ----

/** Hash of a model's config and weights (sha256, hex): the identity of a reference model. */
export function weightsHash(cfg: ModelConfig, params: ModelParams): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(cfg));
  params.table.forEach((row, i) => {
    h.update(row.key);
    const t = params.tensors[i]!;
    h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  });
  return h.digest("hex");
}

/** Key of one sequence: its prompt and response ids. */
export function sequenceKey(s: ScoredSequence): string {
  return createHash("sha256")
    .update(`${s.prompt.join(",")}|${s.response.join(",")}`)
    .digest("hex")
    .slice(0, 32);
}

export class RefCache {
  private readonly map = new Map<string, number>();
  private constructor(readonly path: string) {}

  /** Open (or create) the cache of the reference with hash `refHash` under `dir`. */
  static async open(dir: string, refHash: string): Promise<RefCache> {
    await mkdir(dir, { recursive: true });
    const cache = new RefCache(join(dir, `${refHash.slice(0, 32)}.jsonl`));
    let text = "";
    try {
      text = await readFile(cache.path, "utf8");
    } catch {
      return cache; // no cache yet
    }
    text.split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const { k, lp } = JSON.parse(line) as { k: string; lp: number };
        if (typeof k === "string" && typeof lp === "number") cache.map.set(k, lp);
      } catch {
        // A torn last line (a run killed mid-append) is dropped; any other bad line is an error.
        if (i < text.split("\n").length - 2)
          throw new CheckpointError("reference cache line is not JSON", {
            path: cache.path,
            line: i + 1,
            hint: "delete the file; it is recomputed",
          });
      }
    });
    return cache;
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Reference log-probs for `seqs`: cached ones looked up, the rest scored by `score` in chunks of `chunk`
   * sequences and appended to the file. Returns the values in `seqs` order and the counts.
   */
  async fill(
    seqs: readonly ScoredSequence[],
    score: (batch: readonly ScoredSequence[]) => Promise<Float32Array>,
    chunk = 16,
  ): Promise<{ values: Float64Array; stats: RefStats }> {
    const keys = seqs.map(sequenceKey);
    const todo = [...new Set(keys.filter((k) => !this.map.has(k)))];
    const byKey = new Map(seqs.map((s, i) => [keys[i]!, s]));
    const cachedCount = keys.filter((k) => this.map.has(k)).length;
    for (let i = 0; i < todo.length; i += chunk) {
      const part = todo.slice(i, i + chunk);
      const lp = await score(part.map((k) => byKey.get(k)!));
      const lines = part.map((k, j) => {
        this.map.set(k, lp[j]!);
        return `${JSON.stringify({ k, lp: lp[j] })}\n`;
      });
      await appendFile(this.path, lines.join(""));
    }
    return {
      values: Float64Array.from(keys, (k) => this.map.get(k)!),
      stats: { computed: todo.length, cached: cachedCount },
    };
  }
}
