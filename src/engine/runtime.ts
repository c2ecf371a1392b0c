// The runtime over onnxruntime-node: one InferenceSession per compiled graph, created once from the model bytes;
// each run feeds typed arrays (parameters stay Float32Arrays owned by the caller) and returns typed arrays.
// Does not own parameters or optimizer state (see adamw.ts) and never re-encodes the model between runs.

import os from "node:os";
import * as ort from "onnxruntime-node";
import { ProviderError, ShapeError } from "../errors.ts";
import type { OnnxModel, TensorInfo } from "./onnx.ts";
import { type DType, isHalf } from "./shapes.ts";

// ---- types ----

/** Values to feed or fetch; half-precision inputs take their 16-bit patterns as a Uint16Array. */
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;

/** A value to feed: a typed array with its concrete dims. */
export interface Feed {
  readonly data: TypedArray;
  readonly dims: readonly number[];
}

export interface RuntimeOptions {
  /** Intra-op threads. @default os.availableParallelism() */
  readonly threads?: number;
  /** Write an ORT JSON profile (per-node timings); see `endProfiling`. @default false */
  readonly profile?: boolean;
  /** Path prefix of the profile file ORT writes. @default "onnxruntime_profile" (in the working directory) */
  readonly profilePrefix?: string;
  /** Let idle intra-op threads spin-wait (faster on a quiet machine, much slower on a busy one). @default false */
  readonly spin?: boolean;
  /**
   * ORT's memory pattern: after the first run, each run allocates one block planned for all its intermediates, on
   * top of the arena blocks the first run left. Off, intermediates come from the arena alone — measured −20 % peak
   * RSS on the bench model and −0.5 to −3 GB on a 0.5B model's training step (the training programs run with it
   * off). @default true
   */
  readonly memPattern?: boolean;
  /** Execution providers. @default ["cpu"] */
  readonly providers?: readonly string[];
}

// ---- helpers ----

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: "float32",
  float64: "float64",
  int64: "int64",
  int32: "int32",
  bool: "bool",
  float16: "float16",
  bfloat16: "uint16", // fed as bits; the graph bit-casts them (half.ts)
};

/** The typed array each dtype is fed as (half-precision inputs take their bits). */
const ARRAY_OF: Record<DType, string> = {
  float32: "Float32Array",
  float64: "Float64Array",
  int64: "BigInt64Array",
  int32: "Int32Array",
  bool: "Uint8Array",
  float16: "Uint16Array",
  bfloat16: "Uint16Array",
};

function checkFeed(info: TensorInfo, f: Feed): void {
  if (f.data.constructor.name !== ARRAY_OF[info.dtype])
    throw new ShapeError(`feed ${info.name} has the wrong element type`, {
      expected: `a ${ARRAY_OF[info.dtype]} (${info.dtype})`,
      got: `a ${f.data.constructor.name}`,
      hint: isHalf(info.dtype)
        ? "the program was built for weights held in half precision: feed the same tensors it was built with"
        : undefined,
    });
  const n = f.dims.reduce((a, b) => a * b, 1);
  const fits =
    f.dims.length === info.shape.length && info.shape.every((d, i) => typeof d !== "number" || d === f.dims[i]);
  if (!fits || n !== f.data.length)
    throw new ShapeError(`feed ${info.name} does not fit the graph input`, {
      // When the dims agree the value count is what differs: name both, or the message reads "[a] …, got [a]".
      expected: `dims [${info.shape.join(", ")}] of ${info.dtype}${fits ? ` (${n} values)` : ""}`,
      got: `dims [${f.dims.join(", ")}] with ${f.data.length} values`,
    });
}

// ---- exports ----

/**
 * Feed arrays reused from run to run, one per key: a run's inputs (masks, rotary tables, ids) are rebuilt every step,
 * and allocating them anew — megabytes a step for long packed rows — made V8 collect garbage for the external memory
 * every few steps. An array handed out is valid until the same key is asked for again (after the run it fed).
 */
export class FeedPool {
  private readonly f32s = new Map<string, Float32Array>();
  private readonly i64s = new Map<string, BigInt64Array>();

  /** n float32 values, all `value`. */
  f32(key: string, n: number, value = 0): Float32Array {
    let a = this.f32s.get(key);
    if (!a || a.length < n) this.f32s.set(key, (a = new Float32Array(n)));
    return a.subarray(0, n).fill(value);
  }

  /** n int64 values, all zero. */
  i64(key: string, n: number): BigInt64Array {
    let a = this.i64s.get(key);
    if (!a || a.length < n) this.i64s.set(key, (a = new BigInt64Array(n)));
    return a.subarray(0, n).fill(0n);
  }
}

/** A compiled graph ready to run. */
export class Program {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly model: OnnxModel,
  ) {}

  static async create(model: OnnxModel, opts: RuntimeOptions = {}): Promise<Program> {
    try {
      const session = await ort.InferenceSession.create(model.bytes, {
        intraOpNumThreads: opts.threads ?? os.availableParallelism(),
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        enableCpuMemArena: true,
        enableMemPattern: opts.memPattern ?? true,
        enableProfiling: opts.profile ?? false,
        ...(opts.profilePrefix ? { profileFilePrefix: opts.profilePrefix } : {}),
        executionProviders: [...(opts.providers ?? ["cpu"])],
        extra: { session: { intra_op: { allow_spinning: opts.spin ? "1" : "0" } } },
      });
      return new Program(session, model);
    } catch (cause) {
      throw new ProviderError("onnxruntime could not load the compiled graph", { cause, got: String(cause) });
    }
  }

  /** Names of the graph inputs the model actually reads (unused inputs are pruned at compile time). */
  get inputNames(): readonly string[] {
    return this.model.inputs.map((t) => t.name);
  }

  /**
   * Run once. Feeds not read by the graph are ignored; missing ones are an error. `outputs` limits what is fetched
   * (default: all). `into` gives caller-owned buffers that ORT writes outputs into directly (e.g. gradients reused
   * every step, so no large allocation per step); their dims must be the output's concrete dims.
   */
  async run(
    feeds: Readonly<Record<string, Feed>>,
    outputs?: readonly string[],
    into?: Readonly<Record<string, Feed>>,
  ): Promise<Record<string, TypedArray>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const info of this.model.inputs) {
      const f = feeds[info.name];
      if (!f)
        throw new ShapeError(`missing feed for graph input ${info.name}`, {
          expected: `${info.dtype}[${info.shape.join(", ")}]`,
        });
      checkFeed(info, f);
      ortFeeds[info.name] = new ort.Tensor(ORT_TYPE[info.dtype], f.data as ort.Tensor.DataType, [...f.dims]);
    }
    const names = outputs ?? this.model.outputs.map((t) => t.name);
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const name of names) {
      const info = this.model.outputs.find((t) => t.name === name);
      if (!info)
        throw new ShapeError(`the graph has no output ${name}`, {
          expected: this.model.outputs.map((t) => t.name).join(", "),
        });
      const buf = into?.[name];
      if (buf) checkFeed(info, buf);
      fetches[name] = buf ? new ort.Tensor(ORT_TYPE[info.dtype], buf.data as ort.Tensor.DataType, [...buf.dims]) : null;
    }
    const res = await this.session.run(ortFeeds, fetches);
    const out: Record<string, TypedArray> = {};
    for (const [k, t] of Object.entries(res)) out[k] = (into?.[k]?.data ?? t.data) as TypedArray;
    return out;
  }

  /** Stop profiling; returns the profile file path ORT wrote (in the working directory). */
  endProfiling(): void {
    this.session.endProfiling();
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

export { ort };
