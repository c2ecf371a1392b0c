// Does a `--resume` continue the same run? The identity of a run (its effective config plus content hashes of its
// data, starting model and reference) is saved in `run_inputs.json`; a resume compares the new identity with it
// field by field. Pure comparison here; reading and writing the file is run.ts's job.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { z } from "zod";

// ---- types ----

/** What a run was started from: the effective config and the content hashes of its inputs. */
export const RunInputsSchema = z.object({
  config: z.record(z.string(), z.unknown()),
  data_sha256: z.string().optional(),
  model_sha256: z.string().optional(),
  ref_sha256: z.string().optional(),
  /** Resumes that went ahead despite differences (`--force-resume`), oldest first. */
  forced_resumes: z
    .array(
      z.object({
        at: z.string(),
        step: z.number().optional(),
        differences: z.array(z.object({ field: z.string(), saved: z.unknown(), now: z.unknown() })),
      }),
    )
    .default([]),
});
export type RunInputs = z.infer<typeof RunInputsSchema>;

export interface Difference {
  /** The option (snake_case config key) or input hash (`data`, `model`, `ref`) that differs. */
  readonly field: string;
  readonly saved: unknown;
  readonly now: unknown;
}

// ---- helpers ----

/**
 * Options that do not change what is trained: how long this invocation runs, where caches live, how many
 * threads, how often to save, whether prompts are packed, which engine and device compute it (same values). Paths
 * of data and models are compared by content hash, not by name.
 */
const NOT_IDENTITY = new Set([
  "resume",
  "stop_at",
  "threads",
  "ref_cache",
  "save_every",
  "out",
  "shared_prefix",
  // Where and how the same computation runs: a run may move between engines and devices.
  "engine",
  "device",
  "print_launch",
  "grad_checkpointing",
  "fsdp",
]);
const BY_HASH: Readonly<Record<string, keyof RunInputs>> = {
  data: "data_sha256",
  model: "model_sha256",
  ref: "ref_sha256",
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

// ---- exports ----

/**
 * Fields where `now` changes the run `saved` describes. Data, model and reference are compared by content hash
 * when both sides have one (a moved file is the same data), else by path. Keys absent on one side compare as
 * `undefined` (a default added later is a difference only if the value differs).
 */
export function resumeDifferences(saved: RunInputs, now: RunInputs): Difference[] {
  const out: Difference[] = [];
  const keys = [...new Set([...Object.keys(saved.config), ...Object.keys(now.config)])].sort();
  for (const key of keys) {
    if (NOT_IDENTITY.has(key)) continue;
    const hashKey = BY_HASH[key];
    if (hashKey && saved[hashKey] !== undefined && now[hashKey] !== undefined) {
      if (saved[hashKey] !== now[hashKey])
        out.push({
          field: key,
          saved: `${String(saved.config[key])} (sha256 ${String(saved[hashKey]).slice(0, 12)})`,
          now: `${String(now.config[key])} (sha256 ${String(now[hashKey]).slice(0, 12)})`,
        });
      continue;
    }
    if (!same(saved.config[key], now.config[key]))
      out.push({ field: key, saved: saved.config[key], now: now.config[key] });
  }
  return out;
}

/** One line per difference, for an error message: `--lr 5e-06 (saved) → 0.001 (now)`. */
export function formatDifferences(diffs: readonly Difference[]): string {
  const show = (v: unknown) => (v === undefined ? "(unset)" : typeof v === "string" ? v : JSON.stringify(v));
  return diffs.map((d) => `--${d.field.replace(/_/g, "-")} ${show(d.saved)} (saved) → ${show(d.now)} (now)`).join("; ");
}

/** sha256 of a file's bytes, streamed (hex). */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}
