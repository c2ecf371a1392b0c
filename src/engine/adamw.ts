// AdamW over flat Float32Arrays, in place: decoupled weight decay (Loshchilov & Hutter), bias-corrected moments,
// per-parameter decay flag, the global-norm clipping scale applied while the gradients are read. The update and the
// gradients' sum of squares run as WebAssembly SIMD kernels (adamw-kernel.ts) on the calling thread, over memory the
// optimizer allocates once: gradients and moments live there (fill `grads`, e.g. as ORT `into` outputs), weights are
// the caller's arrays, streamed through a small staging block. No array is allocated or transferred per step.
// Does not schedule the learning rate or decide clipping (the training step does).

import { ShapeError } from "../errors.ts";
import { type AdamWKernels, adamwKernels, type WasmMemory, wasmMemory } from "./adamw-kernel.ts";

// ---- types ----

export interface AdamWOptions {
  /** Learning rate. @default 1e-3 */
  readonly lr?: number;
  /** First-moment decay. @default 0.9 */
  readonly beta1?: number;
  /** Second-moment decay. @default 0.999 */
  readonly beta2?: number;
  /** Added to sqrt(v̂) for stability. @default 1e-8 */
  readonly eps?: number;
  /** Decoupled weight decay, applied only to parameters flagged `decay`. @default 0 */
  readonly weightDecay?: number;
}

export interface AdamWParam {
  /** The weights, updated in place (the optimizer keeps this array; no copy). */
  readonly data: Float32Array;
  /** Whether weight decay applies (2-D weights yes; norms and biases no). */
  readonly decay: boolean;
  /** How errors name the parameter (e.g. its checkpoint key). @default "parameter <index>" */
  readonly name?: string;
}

/** Where parameter k's gradient and moments sit: arena, and byte offsets of its (padded) arrays. */
interface Slot {
  readonly arena: number;
  readonly g: number;
  readonly m: number;
  readonly v: number;
  /** Bytes of each array, padded to whole 16-byte kernel steps (the padding stays zero). */
  readonly bytes: number;
}

interface Arena {
  readonly kernels: AdamWKernels;
  readonly memory: WasmMemory;
  /** Byte offset of the staging block the weights pass through, and a view of it. */
  readonly stage: number;
  readonly stageView: Float32Array;
}

// ---- helpers ----

const PAGE = 65536;
/** Largest arena: 65,535 pages (every byte offset and loop bound fits an unsigned 32-bit address). */
const MAX_ARENA = 65535 * PAGE;
/** Weights pass through the kernel this many at a time (64 KiB: stays in cache between the copies and the update). */
const STAGE = 16384;

const padded = (n: number) => Math.ceil(n / 4) * 16;

// ---- exports ----

export class AdamW {
  /** The weights (the caller's arrays, updated in place by each step). */
  readonly params: Float32Array[];
  /** Gradient buffers, one per parameter, in the optimizer's memory: fill them, then `step()`. */
  readonly grads: Float32Array[];
  /** First and second moments (checkpoints save them; a resume sets them). */
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  readonly decay: readonly boolean[];
  /** Steps taken so far (bias correction uses t after increment); set it with the moments when resuming. */
  t = 0;
  readonly opts: Required<AdamWOptions>;
  private readonly slots: readonly Slot[];
  private readonly arenas: readonly Arena[];

  /** `arenaBytes` caps one memory (tests use a small cap to exercise several). */
  constructor(params: readonly AdamWParam[], opts: AdamWOptions = {}, arenaBytes = MAX_ARENA) {
    this.opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...opts };
    this.params = params.map((p) => p.data);
    this.decay = params.map((p) => p.decay);
    // Pack parameters into arenas in order: each arena holds the staging block, then per parameter g, m, v.
    const plans: { slots: number[]; used: number }[] = [];
    const slots: Slot[] = [];
    for (const [k, p] of params.entries()) {
      const bytes = padded(p.data.length);
      const need = 3 * bytes;
      if (4 * STAGE + need > arenaBytes)
        throw new ShapeError(`${p.name ?? `parameter ${k}`} is too large for the optimizer's memory`, {
          expected: `at most ${Math.floor((arenaBytes - 4 * STAGE) / 48) * 4} values`,
          got: `${p.data.length}`,
          hint: "train it with --engine torch, or with LoRA (--lora-rank)",
        });
      let plan = plans.at(-1);
      if (!plan || plan.used + need > arenaBytes) {
        plan = { slots: [], used: 4 * STAGE };
        plans.push(plan);
      }
      slots.push({ arena: plans.length - 1, g: plan.used, m: plan.used + bytes, v: plan.used + 2 * bytes, bytes });
      plan.slots.push(k);
      plan.used += need;
    }
    this.arenas = plans.map((plan) => {
      const memory = wasmMemory(Math.ceil(plan.used / PAGE));
      return { kernels: adamwKernels(memory), memory, stage: 0, stageView: new Float32Array(memory.buffer, 0, STAGE) };
    });
    this.slots = slots;
    const view = (k: number, at: "g" | "m" | "v") => {
      const s = slots[k]!;
      return new Float32Array(this.arenas[s.arena]!.memory.buffer, s[at], params[k]!.data.length);
    };
    this.grads = params.map((_, k) => view(k, "g"));
    this.m = params.map((_, k) => view(k, "m"));
    this.v = params.map((_, k) => view(k, "v"));
  }

  /** How many WebAssembly memories hold the gradients and moments (one unless they pass 4 GiB). */
  get memories(): number {
    return this.arenas.length;
  }

  /** Σ g² of parameter k's gradient, or of all of them (summed parameter by parameter, in order), in float64. */
  sumSquares(k?: number): number {
    if (k !== undefined) {
      const s = this.slots[k]!;
      return this.arenas[s.arena]!.kernels.sumsq(s.g, s.bytes);
    }
    let total = 0;
    for (let j = 0; j < this.slots.length; j++) total += this.sumSquares(j);
    return total;
  }

  /**
   * One update of every parameter with the current `grads` times `gradScale` (global-norm clipping folded into the
   * update: the buffers are read once); `lr` overrides the default.
   */
  step(lr = this.opts.lr, gradScale = 1): void {
    const { beta1: b1, beta2: b2, eps, weightDecay } = this.opts;
    this.t += 1;
    // Bias corrections: the moments start at zero, so early estimates are scaled up.
    const a = lr / (1 - b1 ** this.t);
    const c2 = 1 / (1 - b2 ** this.t);
    for (const [k, w] of this.params.entries()) {
      const s = this.slots[k]!;
      const arena = this.arenas[s.arena]!;
      const stage = arena.stageView;
      // Decoupled decay: shrink the weight directly, not through the gradient.
      const shrink = this.decay[k] ? 1 - lr * weightDecay : 1;
      for (let at = 0; at < w.length; at += STAGE) {
        const n = Math.min(STAGE, w.length - at);
        stage.set(w.subarray(at, at + n));
        // Whole kernel steps: the lanes past n read zero gradients and moments and are not copied back.
        const bytes = Math.ceil(n / 4) * 16;
        const [g, m, v] = [s.g + 4 * at, s.m + 4 * at, s.v + 4 * at];
        arena.kernels.adamw(arena.stage, m, v, g, bytes, b1, 1 - b1, b2, 1 - b2, a, c2, eps, shrink, gradScale);
        w.set(stage.subarray(0, n), at);
      }
    }
  }
}
