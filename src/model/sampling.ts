// One row of decoding: the next token from logits (argmax, or temperature + top-p sampling on a seeded stream)
// and the stop rules (EOS ids, stop strings, the token limit). Pure bookkeeping on logits; runs no model.

import type { GenerateOptions, Generation } from "./generate.ts";
import { makeRng } from "./init.ts";

// ---- helpers ----

/** Next token from logits: argmax, or temperature + top-p sampling. */
function pick(logits: Float32Array, o: GenerateOptions, rand: () => number): number {
  const t = o.temperature ?? 0;
  if (t <= 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    return best;
  }
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const probs = Array.from(logits, (v, i) => ({ i, p: Math.exp((v - max) / t) }));
  const z = probs.reduce((a, b) => a + b.p, 0);
  probs.sort((a, b) => b.p - a.p || a.i - b.i);
  // Nucleus: the smallest prefix whose mass reaches top_p.
  const topP = o.topP ?? 1;
  let mass = 0;
  let n = 0;
  while (n < probs.length && (n === 0 || mass < topP * z)) mass += probs[n++]!.p;
  let r = rand() * mass;
  for (let j = 0; j < n; j++) if ((r -= probs[j]!.p) <= 0) return probs[j]!.i;
  return probs[n - 1]!.i;
}

// ---- exports ----

/** One row's decoding: its tokens so far, its seeded stream and the stop rules (EOS ids, stop strings, limit). */
export class Decoding {
  done = false;
  private readonly out: number[] = [];
  private readonly rand: () => number;
  private text: string | undefined;
  private finish: "stop" | "length" = "length";

  constructor(
    private readonly o: GenerateOptions,
    private readonly stopIds: ReadonlySet<number>,
    private logits: Float32Array,
  ) {
    this.rand = makeRng(o.seed ?? 0);
  }

  /** Choose the next token from the current logits; returns the token to feed next (0 once the row is done). */
  pick(isLast: boolean): number {
    if (this.done) return 0;
    const next = pick(this.logits, this.o, this.rand);
    if (this.stopIds.has(next)) return this.end("stop");
    this.out.push(next);
    if (this.o.stop?.length && this.o.decode) {
      const text = this.o.decode(this.out);
      const hit = this.o.stop.map((s) => text.indexOf(s)).filter((i) => i >= 0);
      if (hit.length) {
        this.text = text.slice(0, Math.min(...hit));
        return this.end("stop");
      }
    }
    if (isLast) this.end("length");
    return next;
  }

  /** The logits after the token just fed. */
  feed(logits: Float32Array): void {
    if (!this.done) this.logits = logits;
  }

  result(): Generation {
    const text = this.text ?? (this.o.decode ? this.o.decode(this.out) : undefined);
    return { ids: this.out, ...(text !== undefined ? { text } : {}), finish: this.finish };
  }

  private end(finish: "stop" | "length"): number {
    [this.done, this.finish] = [true, finish];
    return 0;
  }
}
