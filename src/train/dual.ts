// Forward-mode dual numbers over a few inputs: a loss written once as a function of summed log-probs gives its
// value and its exact gradient with respect to those log-probs (the seed for the engine's backward pass).

export class Dual {
  constructor(
    /** The value. */
    readonly v: number,
    /** d value / d input_i, one entry per input. */
    readonly g: Float64Array,
  ) {}

  /** Input i of n, with gradient e_i. */
  static input(v: number, i: number, n: number): Dual {
    const g = new Float64Array(n);
    g[i] = 1;
    return new Dual(v, g);
  }

  static constant(v: number, n: number): Dual {
    return new Dual(v, new Float64Array(n));
  }

  add(o: Dual): Dual {
    return new Dual(
      this.v + o.v,
      this.g.map((x, i) => x + o.g[i]!),
    );
  }

  sub(o: Dual): Dual {
    return new Dual(
      this.v - o.v,
      this.g.map((x, i) => x - o.g[i]!),
    );
  }

  scale(k: number): Dual {
    return new Dual(
      this.v * k,
      this.g.map((x) => x * k),
    );
  }

  addConst(k: number): Dual {
    return new Dual(this.v + k, this.g);
  }

  /** f(x) with f'(x) given: the chain rule in one place. */
  map(f: (x: number) => number, df: (x: number) => number): Dual {
    const d = df(this.v);
    return new Dual(
      f(this.v),
      this.g.map((x) => x * d),
    );
  }

  /** log σ(x), computed stably for large |x|. */
  logSigmoid(): Dual {
    return this.map(logSigmoid, (x) => 1 / (1 + Math.exp(x)));
  }

  relu(): Dual {
    return this.map(
      (x) => Math.max(0, x),
      (x) => (x > 0 ? 1 : 0),
    );
  }

  square(): Dual {
    return this.map(
      (x) => x * x,
      (x) => 2 * x,
    );
  }
}

/** log σ(x) = −log(1 + e^(−x)), stable on both tails. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}
