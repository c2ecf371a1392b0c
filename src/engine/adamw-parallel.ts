// AdamW split across threads: the parameter list is cut into size-balanced shards, shard 0 updated on the calling
// thread and the others in worker threads at the same time. Arrays (weights, gradients, both moments) move to a
// worker and back by transfer (no copy), so this optimizer owns them: read `params`, `grads`, `m`, `v` after each
// step (checkpoints save the moments; a resume sets them). Same arithmetic as AdamW (adamw.ts), element for element.

import os from "node:os";
import { Worker } from "node:worker_threads";
import { ShapeError } from "../errors.ts";
import { type AdamWOptions, type AdamWParam, adamHyper, adamUpdate } from "./adamw.ts";

// ---- types ----

interface Shard {
  params: Float32Array[];
  grads: Float32Array[];
  m: Float32Array[];
  v: Float32Array[];
}

// ---- helpers ----

// The worker is plain JavaScript evaluated from this string, so it needs no TypeScript loader. Its loop is the
// same as adamw.ts's `update`.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
function update(w, m, v, g, b1, b2, a, c2, eps, shrink, gs) {
  const o1 = 1 - b1, o2 = 1 - b2;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] * gs;
    const mi = b1 * m[i] + o1 * gi;
    const vi = b2 * v[i] + o2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * shrink - (a * mi) / (Math.sqrt(vi * c2) + eps);
  }
}
parentPort.on("message", (msg) => {
  const { params, grads, m, v, shrink, h } = msg;
  for (let k = 0; k < params.length; k++) update(params[k], m[k], v[k], grads[k], h.b1, h.b2, h.a, h.c2, h.eps, shrink[k], h.gs);
  parentPort.postMessage({ params, grads, m, v }, [...params, ...grads, ...m, ...v].map((a) => a.buffer));
});
`;

/** A Float32Array that is the sole view of its buffer (so it can be transferred without detaching others). */
const owned = (a: Float32Array): Float32Array =>
  a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : Float32Array.from(a);

// ---- exports ----

export class ParallelAdamW {
  /** Current parameter arrays, in the order given (they are replaced by each step: read them after it). */
  params: Float32Array[];
  /** Gradient buffers, one per parameter: fill them (e.g. as ORT `into` outputs), then call step(). */
  grads: Float32Array[];
  /** First and second moments, one per parameter (replaced by each step like `params`). */
  m: Float32Array[];
  v: Float32Array[];
  readonly decay: readonly boolean[];
  /** Shard s holds these parameter indices; shard 0 runs on the calling thread. */
  readonly shards: number[][];
  private readonly workers: Worker[];
  /** Per worker, the resolver of the step in flight. */
  private readonly pending: ({ resolve: (r: Shard) => void; reject: (e: unknown) => void } | null)[];
  /** Steps taken so far (bias correction); set it with the moments when resuming. */
  t = 0;

  readonly opts: Required<AdamWOptions>;

  /** `threads` shards (default: one per core); 1 runs everything on the calling thread. */
  constructor(params: readonly AdamWParam[], opts: AdamWOptions = {}, threads = os.availableParallelism()) {
    this.params = params.map((p) => owned(p.data));
    this.grads = params.map((p) => new Float32Array(p.data.length));
    this.m = params.map((p) => new Float32Array(p.data.length));
    this.v = params.map((p) => new Float32Array(p.data.length));
    this.decay = params.map((p) => p.decay);
    // Greedy balance by size: largest first onto the lightest shard.
    const n = Math.max(1, Math.min(threads, params.length));
    this.shards = Array.from({ length: n }, () => [] as number[]);
    const load = new Array<number>(n).fill(0);
    for (const k of [...params.keys()].sort((a, b) => params[b].data.length - params[a].data.length)) {
      const s = load.indexOf(Math.min(...load));
      this.shards[s].push(k);
      load[s] += params[k].data.length;
    }
    for (const s of this.shards) s.sort((a, b) => a - b);
    this.opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...opts };
    this.workers = this.shards.slice(1).map(() => new Worker(WORKER_SOURCE, { eval: true }));
    this.pending = this.workers.map(() => null);
    this.workers.forEach((w, i) => {
      w.on("message", (r: Shard) => this.pending[i]?.resolve(r));
      w.on("error", (cause) => this.pending[i]?.reject(new ShapeError("an AdamW worker thread failed", { cause })));
    });
  }

  /**
   * One AdamW update of every parameter with the current `grads` times `gradScale` (global-norm clipping folded into
   * the update: the buffers are read once); `lr` overrides the default.
   */
  async step(lr = this.opts.lr, gradScale = 1): Promise<void> {
    const { weightDecay } = this.opts;
    this.t += 1;
    const h = adamHyper(this.opts, this.t, lr, gradScale);
    const shrink = (k: number) => (this.decay[k] ? 1 - lr * weightDecay : 1);
    const replies = this.workers.map((w, i) => {
      const ks = this.shards[i + 1];
      const msg = {
        params: ks.map((k) => this.params[k]),
        grads: ks.map((k) => this.grads[k]),
        m: ks.map((k) => this.m[k]),
        v: ks.map((k) => this.v[k]),
        shrink: ks.map(shrink),
        h,
      };
      const done = new Promise<Shard>((resolve, reject) => {
        this.pending[i] = { resolve, reject };
      });
      w.postMessage(
        msg,
        [...msg.params, ...msg.grads, ...msg.m, ...msg.v].map((a) => a.buffer as ArrayBuffer),
      );
      return done.then((r) => {
        for (const [j, k] of ks.entries()) {
          this.params[k] = r.params[j];
          this.grads[k] = r.grads[j];
          this.m[k] = r.m[j];
          this.v[k] = r.v[j];
        }
      });
    });
    // Shard 0 here, while the workers run theirs.
    for (const k of this.shards[0])
      adamUpdate(this.params[k], this.m[k], this.v[k], this.grads[k], h.b1, h.b2, h.a, h.c2, h.eps, shrink(k), h.gs);
    await Promise.all(replies);
  }

  /** Stop the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
