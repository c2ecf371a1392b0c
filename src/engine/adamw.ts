// AdamW over flat Float32Arrays, in place: decoupled weight decay (Loshchilov & Hutter), bias-corrected moments,
// per-parameter decay flag. Runs in TypeScript: measured faster than an in-graph update here (see docs/engine.md).
// Does not schedule the learning rate or clip gradients (the trainer does).

import { ShapeError } from "../errors.ts";

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
  readonly data: Float32Array;
  /** Whether weight decay applies (2-D weights yes; norms and biases no). */
  readonly decay: boolean;
}

/** The element loop, kept in its own small monomorphic function: V8 compiles it ~1.5× faster than inline. */
export function adamUpdate(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: ArrayLike<number>,
  b1: number,
  b2: number,
  a: number,
  c2: number,
  eps: number,
  shrink: number,
  gs: number,
): void {
  const [o1, o2] = [1 - b1, 1 - b2];
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] * gs; // the gradient times its clipping scale
    const mi = b1 * m[i] + o1 * gi; // first moment: EMA of g
    const vi = b2 * v[i] + o2 * gi * gi; // second moment: EMA of g²
    m[i] = mi;
    v[i] = vi;
    // a = lr / (1 − β1ᵗ) and c2 = 1 / (1 − β2ᵗ) are the bias corrections (moments start at zero).
    w[i] = w[i] * shrink - (a * mi) / (Math.sqrt(vi * c2) + eps);
  }
}

/**
 * Per-step scalars of the update: a = lr / (1 − β1ᵗ) and c2 = 1 / (1 − β2ᵗ) are the bias corrections (the moments
 * start at zero, so early estimates are scaled up). Shared by AdamW and ParallelAdamW so both round alike.
 */
export function adamHyper(
  o: Required<AdamWOptions>,
  t: number,
  lr: number,
  gradScale = 1,
): { b1: number; b2: number; a: number; c2: number; eps: number; gs: number } {
  return {
    b1: o.beta1,
    b2: o.beta2,
    a: lr / (1 - o.beta1 ** t),
    c2: 1 / (1 - o.beta2 ** t),
    eps: o.eps,
    gs: gradScale,
  };
}

export class AdamW {
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  /** Steps taken so far (bias correction uses t after increment). */
  t = 0;
  readonly opts: Required<AdamWOptions>;

  constructor(
    readonly params: readonly AdamWParam[],
    opts: AdamWOptions = {},
  ) {
    this.opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...opts };
    this.m = params.map((p) => new Float32Array(p.data.length));
    this.v = params.map((p) => new Float32Array(p.data.length));
  }

  /** One update with gradients `grads` (same order and sizes as the params); `lr` overrides the default. */
  step(grads: readonly ArrayLike<number>[], lr = this.opts.lr, gradScale = 1): void {
    this.t += 1;
    const h = adamHyper(this.opts, this.t, lr, gradScale);
    this.params.forEach((p, k) => {
      const g = grads[k];
      if (g.length !== p.data.length)
        throw new ShapeError(`gradient ${k} has ${g.length} values for a parameter of ${p.data.length}`);
      // Decoupled decay: shrink the weight directly, not through the gradient.
      const shrink = p.decay ? 1 - lr * this.opts.weightDecay : 1;
      adamUpdate(p.data, this.m[k], this.v[k], g, h.b1, h.b2, h.a, h.c2, h.eps, shrink, h.gs);
    });
  }
}
