// A seeded PRNG (xoshiro128** seeded through splitmix32) whose whole state is four uint32s, so a checkpoint can
// store it and a resumed run draws the same numbers; plus a Fisher–Yates shuffle. Never Math.random. No I/O.

// ---- exports ----

/** Serializable generator state: four uint32 words. */
export type RngState = [number, number, number, number];

export class Rng {
  private s: RngState;

  constructor(state: RngState) {
    this.s = [...state];
  }

  /** State from a seed, mixed through splitmix32 so nearby seeds give unrelated streams. */
  static fromSeed(seed: number): Rng {
    let x = seed >>> 0;
    const split = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    return new Rng([split(), split(), split(), split()]);
  }

  get state(): RngState {
    return [...this.s];
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number {
    const [a, b, c, d] = this.s;
    const m = Math.imul(b, 5);
    const r = (Math.imul((m << 7) | (m >>> 25), 9) >>> 0) / 4294967296; // rotl(b·5, 7)·9
    const t = (b << 9) >>> 0;
    const c2 = (c ^ a) >>> 0;
    const d2 = (d ^ b) >>> 0;
    const b2 = (b ^ c2) >>> 0;
    const a2 = (a ^ d2) >>> 0;
    this.s = [a2, b2, (c2 ^ t) >>> 0, ((d2 << 11) | (d2 >>> 21)) >>> 0];
    return r;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}
