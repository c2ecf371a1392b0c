// The AdamW update and the gradient's sum of squares as WebAssembly SIMD kernels, two lanes of float64 at a time.
// Bit for bit the arithmetic of the scalar JavaScript loop (docs/engine.md, "AdamW"): each float32 is widened to
// float64, the update runs as the same float64 operations in the same order (WebAssembly, like JavaScript, never
// fuses a multiply and an add), and the results are rounded back to float32 once. Twice the speed of V8's scalar loop
// on one core. The module is assembled here from its instructions (no binary checked in); it reads an imported
// memory, so every arena of the optimizer (adamw.ts) instantiates it over its own memory.

// ---- types ----

/** The part of the WebAssembly JS API used here (TypeScript declares it only in its DOM library). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

// ---- helpers ----

const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 (the immediate of i32.const). */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

const name = (s: string) => [...leb(s.length), ...Buffer.from(s, "utf8")];
const vec = (items: readonly (readonly number[])[]) => [...leb(items.length), ...items.flat()];
const section = (id: number, body: readonly number[]) => [id, ...leb(body.length), ...body];

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;
const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];
const simd = (op: number, ...imm: number[]) => [0xfd, ...leb(op), ...imm];
const addr = (base: number, i: number) => [...get(base), ...get(i), 0x6a]; // i32.add
/** Two float32 at base + i (+ offset bytes), widened: f64x2.promote_low_f32x4(v128.load64_zero). */
const load2 = (base: number, i: number, offset = 0) => [...addr(base, i), ...simd(0x5d, 3, offset), ...simd(0x5f)];
/** Round the two float64 lanes on the stack to float32 and store them at base + i (v128.store64_lane 0). */
const store2 = (base: number, i: number, value: readonly number[]) => [
  ...addr(base, i),
  ...value,
  ...simd(0x5e),
  ...simd(0x5b, 3, 0, 0),
];
const ADD = simd(0xf0);
const SUB = simd(0xf1);
const MUL = simd(0xf2);
const DIV = simd(0xf3);
const SQRT = simd(0xef);
const SPLAT = simd(0x14);
/** block; loop; br_if 1 when i ≥ n (unsigned); …body…; i += step; br 0; end; end. */
const forBytes = (i: number, n: number, step: number, body: readonly number[]) => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...get(i),
  ...get(n),
  0x4f, // i32.ge_u
  0x0d,
  1,
  ...body,
  ...get(i),
  0x41, // i32.const
  ...sleb(step),
  0x6a,
  ...set(i),
  0x0c,
  0,
  0x0b,
  0x0b,
];

/**
 * adamw(w, m, v, g, bytes, b1, o1, b2, o2, a, c2, eps, shrink, gs): for each float32 pair at byte offsets
 * [0, bytes) of the four arrays (bytes a multiple of 8):
 *   gi = g·gs;  m = b1·m + o1·gi;  v = b2·v + (o2·gi)·gi;  w = w·shrink − (a·m) / (√(v·c2) + eps)
 * with m and v used unrounded in the last line, as in the scalar loop.
 */
function adamwBody(): { params: number[]; locals: number[][]; code: number[] } {
  const [W, M, V, G, N] = [0, 1, 2, 3, 4];
  const scalars = 9; // b1 o1 b2 o2 a c2 eps shrink gs: params 5..13
  const I = 14;
  const [B1, O1, B2, O2, A, C2, EPS, SH, GS] = Array.from({ length: scalars }, (_, k) => 15 + k); // splats
  const [GI, MI, VI] = [24, 25, 26];
  const code: number[] = [];
  for (let k = 0; k < scalars; k++) code.push(...get(5 + k), ...SPLAT, ...set(15 + k));
  const mi = [...get(B1), ...load2(M, I), ...MUL, ...get(O1), ...get(GI), ...MUL, ...ADD];
  const vi = [...get(B2), ...load2(V, I), ...MUL, ...get(O2), ...get(GI), ...MUL, ...get(GI), ...MUL, ...ADD];
  const step = [...get(A), ...get(MI), ...MUL, ...get(VI), ...get(C2), ...MUL, ...SQRT, ...get(EPS), ...ADD, ...DIV];
  code.push(
    ...forBytes(I, N, 8, [
      ...load2(G, I),
      ...get(GS),
      ...MUL,
      ...set(GI),
      ...mi,
      ...set(MI),
      ...vi,
      ...set(VI),
      ...store2(M, I, get(MI)),
      ...store2(V, I, get(VI)),
      ...store2(W, I, [...load2(W, I), ...get(SH), ...MUL, ...step, ...SUB]),
    ]),
  );
  return {
    params: [I32, I32, I32, I32, I32, ...new Array<number>(scalars).fill(F64)],
    locals: [
      [1, I32],
      [scalars + 3, V128],
    ],
    code,
  };
}

/**
 * sumsq(g, bytes) → f64: Σ g² over float32 at byte offsets [0, bytes) (a multiple of 16), widened to float64, in
 * two two-lane accumulators (elements 4j, 4j+1 and 4j+2, 4j+3), added lane by lane at the end: a fixed order.
 */
function sumsqBody(): { params: number[]; results: number[]; locals: number[][]; code: number[] } {
  const [G, N, I, P, Q] = [0, 1, 2, 3, 4];
  const square = (acc: number, offset: number) => [
    ...get(acc),
    ...load2(G, I, offset),
    ...set(5),
    ...get(5),
    ...get(5),
    ...MUL,
    ...ADD,
    ...set(acc),
  ];
  return {
    params: [I32, I32],
    results: [F64],
    locals: [
      [1, I32],
      [3, V128],
    ],
    code: [
      ...forBytes(I, N, 16, [...square(P, 0), ...square(Q, 8)]),
      ...get(P),
      ...get(Q),
      ...ADD,
      ...set(P),
      ...get(P),
      ...simd(0x21, 0), // f64x2.extract_lane 0
      ...get(P),
      ...simd(0x21, 1),
      0xa0, // f64.add
    ],
  };
}

function funcBody(locals: readonly (readonly number[])[], code: readonly number[]): number[] {
  const body = [...vec(locals.map(([n, t]) => [...leb(n!), t!])), ...code, 0x0b];
  return [...leb(body.length), ...body];
}

function assemble(): Uint8Array {
  const adamw = adamwBody();
  const sumsq = sumsqBody();
  const types = [
    [0x60, ...vec(adamw.params.map((t) => [t])), ...vec([])],
    [0x60, ...vec(sumsq.params.map((t) => [t])), ...vec(sumsq.results.map((t) => [t]))],
  ];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    1,
    0,
    0,
    0,
    ...section(1, vec(types)),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 0x00]])), // import memory, min 0 pages
    ...section(3, vec([[0], [1]])),
    ...section(
      7,
      vec([
        [...name("adamw"), 0x00, 0],
        [...name("sumsq"), 0x00, 1],
      ]),
    ),
    ...section(10, vec([funcBody(adamw.locals, adamw.code), funcBody(sumsq.locals, sumsq.code)])),
  ]);
}

// ---- exports ----

export interface AdamWKernels {
  adamw(
    w: number,
    m: number,
    v: number,
    g: number,
    bytes: number,
    b1: number,
    o1: number,
    b2: number,
    o2: number,
    a: number,
    c2: number,
    eps: number,
    shrink: number,
    gs: number,
  ): void;
  sumsq(g: number, bytes: number): number;
}

let compiled: object | null = null;

/** A fixed-size memory of `pages` × 64 KiB (never grown, so views into it stay valid). */
export const wasmMemory = (pages: number): WasmMemory => new wasm.Memory({ initial: pages, maximum: pages });

/** The kernels over `memory` (byte offsets into it). */
export function adamwKernels(memory: WasmMemory): AdamWKernels {
  compiled ??= new wasm.Module(assemble());
  return new wasm.Instance(compiled, { env: { memory } }).exports as AdamWKernels;
}
