// A real writer process for the kill-mid-append tests: appends to the reference log-prob cache in `dir` without
// end, in big chunks (each append is several write calls, so a SIGKILL can land between them). Every line has
// the same length (LINE_BYTES), so a torn tail shows as a file size that is not a multiple of it.
// Run: node --import tsx test/helpers/append-writer.ts <dir>

import type { ScoredSequence } from "../../src/model/index.ts";
import { RefCache } from "../../src/train/index.ts";

/** The reference hash the writer and the test share. */
export const REF_HASH = "a".repeat(64);
/** Sequences per append. */
export const CHUNK = 40_000;
/** Bytes of one cache line: {"k":"<32 hex>","lp":-1.25}\n */
export const LINE_BYTES = 52;

/** The sequences of append round `r` (distinct across rounds). */
export function roundSeqs(r: number): ScoredSequence[] {
  return Array.from({ length: CHUNK }, (_, i) => ({ prompt: [r], response: [i, 7] }));
}

const score = async (batch: readonly ScoredSequence[]) => new Float32Array(batch.length).fill(-1.25);

if (process.argv[1]?.endsWith("append-writer.ts")) {
  const cache = await RefCache.open(process.argv[2]!, REF_HASH);
  for (let r = 0; r < 30; r++) await cache.fill(roundSeqs(r), score, CHUNK);
}
