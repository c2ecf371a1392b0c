// The reference log-prob cache: one JSONL file per reference model (named by a hash of its config and weights),
// one line per scored sequence keyed by a hash of its prompt and response ids. Computed once before training, so a
// second run, a resumed run, or DPO and IOPO over shared (x1,y1)/(x1,y2) sequences do no reference forward again.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointError, describe } from "../errors.ts";
import { JsonlAppender } from "../io/index.ts";
import {
  f16ToF32,
  type HeldTensor,
  isHalfTensor,
  type ModelConfig,
  type ModelParams,
  type ScoredSequence,
} from "../model/index.ts";

// ---- types ----

export interface RefStats {
  /** Sequences scored by a reference forward in this run. */
  readonly computed: number;
  /** Sequences found in the cache. */
  readonly cached: number;
}

// ---- exports ----

/**
 * Hash of a model's config and weights (sha256, hex): the identity of a reference model. Weights are hashed as
 * their Float32 values however they are held, so a base kept in half precision has the hash it has in Float32.
 */
export function weightsHash(cfg: ModelConfig, params: ModelParams<HeldTensor>): string {
  const h = createHash("sha256");
  h.update(JSON.stringify(cfg));
  params.table.forEach((row, i) => {
    h.update(row.key);
    const t = params.tensors[i]!;
    if (!isHalfTensor(t)) {
      h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
      return;
    }
    // From the 16-bit values themselves (not their bytes), so the hash does not depend on the host's byte order.
    const chunk = new Float32Array(Math.min(HASH_CHUNK, t.bits.length));
    const asBits = new Uint32Array(chunk.buffer);
    for (let at = 0; at < t.bits.length; at += HASH_CHUNK) {
      const part = t.bits.subarray(at, at + HASH_CHUNK);
      if (t.dtype === "bfloat16") for (let e = 0; e < part.length; e++) asBits[e] = part[e]! << 16;
      else for (let e = 0; e < part.length; e++) chunk[e] = f16ToF32(part[e]!);
      h.update(new Uint8Array(chunk.buffer, 0, 4 * part.length));
    }
  });
  return h.digest("hex");
}

/** Values upcast at a time when hashing a half-precision tensor. */
const HASH_CHUNK = 1 << 20;

/** Key of one sequence: its prompt and response ids. */
export function sequenceKey(s: ScoredSequence): string {
  return createHash("sha256")
    .update(`${s.prompt.join(",")}|${s.response.join(",")}`)
    .digest("hex")
    .slice(0, 32);
}

export class RefCache {
  private readonly map = new Map<string, number>();
  private constructor(
    readonly path: string,
    private readonly file: JsonlAppender,
  ) {}

  /** Bytes of a torn last line cut off when the cache was opened (0 normally). */
  get repaired(): number {
    return this.file.repaired;
  }

  /** Open (or create) the cache of the reference with hash `refHash` under `dir`. */
  static async open(dir: string, refHash: string): Promise<RefCache> {
    const path = join(dir, `${refHash.slice(0, 32)}.jsonl`);
    // A run killed mid-append leaves a torn last line: opening cuts it off, or the next append is glued onto it.
    const cache = new RefCache(path, await JsonlAppender.open(path));
    let text = "";
    try {
      text = await readFile(cache.path, "utf8");
    } catch {
      return cache; // no cache yet
    }
    text.split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      let entry: { k?: unknown; lp?: unknown } | undefined;
      try {
        entry = JSON.parse(line) as { k?: unknown; lp?: unknown };
      } catch {
        entry = undefined;
      }
      if (typeof entry?.k !== "string" || typeof entry.lp !== "number")
        throw new CheckpointError("reference cache line is not a {k, lp} JSON object", {
          path: cache.path,
          line: i + 1,
          got: describe(line),
          hint: `delete ${cache.path}; it is recomputed on the next run`,
        });
      cache.map.set(entry.k, entry.lp);
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
      const entries = part.map((k, j) => {
        this.map.set(k, lp[j]!);
        return { k, lp: lp[j] };
      });
      await this.file.append(entries);
    }
    return {
      values: Float64Array.from(keys, (k) => this.map.get(k)!),
      stats: { computed: todo.length, cached: cachedCount },
    };
  }
}
