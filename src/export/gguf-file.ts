// The GGUF v3 container, written and read by hand: header, typed metadata (key → value), tensor infos (name, ggml
// dims innermost first, type, aligned offset) and the aligned tensor data. Writing streams one tensor at a time to
// a temporary sibling file that is renamed into place, so a failed export leaves no partial file.
// Does not decide names, layouts or dtypes of a model's tensors (see llama-gguf.ts).

import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CheckpointError, ConfigError } from "../errors.ts";
import { decodeF16, dequantizeQ8_0, encodeF16, Q8_0_BLOCK, Q8_0_BYTES, quantizeQ8_0 } from "./quant.ts";

// ---- types ----

/** GGUF metadata value types (gguf_type), by the names this module uses. */
const VALUE_TYPE = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;
type ScalarKind = "u32" | "i32" | "f32" | "bool" | "string" | "u64";

/** One metadata value, discriminated by `kind`; arrays hold scalars of one kind. */
export type GgufValue =
  | { readonly kind: "u32" | "i32" | "f32" | "u64"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "array"; readonly of: ScalarKind; readonly value: readonly (number | string | boolean)[] };

/** The ggml tensor types this writer produces, with their ggml_type numbers. */
export const TENSOR_TYPE = { f32: 0, f16: 1, q8_0: 8 } as const;
export type TensorDtype = keyof typeof TENSOR_TYPE;

export interface GgufTensor {
  /** llama.cpp tensor name, e.g. `blk.0.attn_q.weight`. */
  readonly name: string;
  /** Row-major shape, outermost first (as PyTorch/HF); the file stores it reversed (ggml's ne[0] innermost). */
  readonly shape: readonly number[];
  readonly dtype: TensorDtype;
  /** Float32 values in row-major order; encoded to `dtype` when written. */
  readonly data: Float32Array;
}

export interface GgufFile {
  readonly version: number;
  readonly metadata: Map<string, GgufValue>;
  /** Tensors decoded back to Float32 (f16 and q8_0 dequantised), with their stored dtype. */
  readonly tensors: Map<string, GgufTensor>;
}

// ---- helpers ----

export const GGUF_ALIGNMENT = 32;
const align = (n: number, a = GGUF_ALIGNMENT) => Math.ceil(n / a) * a;

/** Little-endian byte builder for the header part of the file. */
class Bytes {
  private readonly parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  u64(v: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.push(b);
  }
  scalar(kind: ScalarKind, v: number | string | boolean): void {
    const b = Buffer.alloc(kind === "u64" ? 8 : kind === "bool" ? 1 : 4);
    if (kind === "string") {
      this.str(String(v));
      return;
    }
    if (kind === "u32") b.writeUInt32LE(v as number);
    else if (kind === "i32") b.writeInt32LE(v as number);
    else if (kind === "f32") b.writeFloatLE(v as number);
    else if (kind === "bool") b.writeUInt8(v ? 1 : 0);
    else b.writeBigUInt64LE(BigInt(v as number));
    this.push(b);
  }
  value(v: GgufValue): void {
    this.u32(VALUE_TYPE[v.kind]);
    if (v.kind !== "array") {
      this.scalar(v.kind, v.value);
      return;
    }
    this.u32(VALUE_TYPE[v.of]);
    this.u64(v.value.length);
    for (const x of v.value) this.scalar(v.of, x);
  }
  concat(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

/** Bytes of one tensor in its dtype. Q8_0 needs rows (the innermost dimension) that are whole blocks. */
function encodeTensor(t: GgufTensor): Buffer {
  if (t.dtype === "f32") return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.dtype === "f16") return encodeF16(t.data);
  const row = t.shape[t.shape.length - 1]!;
  if (row % Q8_0_BLOCK !== 0)
    throw new ConfigError("tensor rows are not whole Q8_0 blocks", {
      field: t.name,
      expected: `a row length that is a multiple of ${Q8_0_BLOCK}`,
      got: String(row),
    });
  return quantizeQ8_0(t.data);
}

function byteSize(t: GgufTensor): number {
  const n = t.data.length;
  return t.dtype === "f32" ? n * 4 : t.dtype === "f16" ? n * 2 : (n / Q8_0_BLOCK) * Q8_0_BYTES;
}

// ---- exports ----

/**
 * Write a GGUF v3 file at `path` atomically (a temporary sibling, fsync, rename). `path` must not be a directory;
 * its parent must exist. Metadata keys are written in the given order; tensors are aligned to 32 bytes.
 */
export async function writeGguf(
  path: string,
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensor[],
): Promise<{ bytes: number }> {
  const info = await stat(path).catch(() => null);
  if (info?.isDirectory())
    throw new ConfigError("output path is a directory", {
      path,
      expected: "a file path such as model.gguf",
      got: "a directory",
      hint: `pass a file name, e.g. --out ${join(path, "model.gguf")}`,
    });
  const parent = await stat(dirname(path)).catch(() => null);
  if (!parent?.isDirectory())
    throw new ConfigError("the output file's folder does not exist", {
      path,
      expected: `an existing directory ${dirname(path)}`,
      hint: `create it first (mkdir -p ${dirname(path)})`,
    });
  const head = new Bytes();
  head.push(Buffer.from("GGUF", "latin1"));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.size);
  for (const [key, value] of metadata) {
    head.str(key);
    head.value(value);
  }
  let offset = 0;
  for (const t of tensors) {
    head.str(t.name);
    head.u32(t.shape.length);
    for (let i = t.shape.length - 1; i >= 0; i--) head.u64(t.shape[i]!); // ggml ne[]: innermost first
    head.u32(TENSOR_TYPE[t.dtype]);
    head.u64(offset);
    offset = align(offset + byteSize(t));
  }
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const handle = await open(tmp, "w").catch((err: Error) => {
    throw new ConfigError("cannot create the output file", {
      path,
      got: err.message,
      hint: "check the folder is writable",
    });
  });
  try {
    let pos = 0;
    const write = async (b: Buffer) => {
      await handle.write(b, 0, b.length, pos);
      pos += b.length;
    };
    const pad = async () => {
      if (pos % GGUF_ALIGNMENT) await write(Buffer.alloc(align(pos) - pos));
    };
    await write(head.concat());
    await pad();
    for (const t of tensors) {
      await write(encodeTensor(t));
      await pad();
    }
    await handle.sync();
    await handle.close();
    await rename(tmp, path);
    return { bytes: pos };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (err instanceof ConfigError) throw err;
    throw new CheckpointError("cannot write the GGUF file", { path, got: String(err), cause: err });
  }
}

/** Read a GGUF v2/v3 file written by `writeGguf` (types f32, f16, q8_0), decoding every tensor to Float32. */
export async function readGguf(path: string): Promise<GgufFile> {
  const buf = await readFile(path);
  let pos = 0;
  const fail = (got: string) =>
    new CheckpointError("cannot parse GGUF file", { path, expected: "a GGUF v3 file", got: `${got} at byte ${pos}` });
  const u32 = () => {
    pos += 4;
    return buf.readUInt32LE(pos - 4);
  };
  const u64 = () => {
    pos += 8;
    return Number(buf.readBigUInt64LE(pos - 8));
  };
  const str = () => {
    const n = u64();
    pos += n;
    return buf.toString("utf8", pos - n, pos);
  };
  const NAMES = Object.fromEntries(Object.entries(VALUE_TYPE).map(([k, v]) => [v, k])) as Record<number, string>;
  const scalar = (kind: string): number | string | boolean => {
    if (kind === "string") return str();
    const size = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8 }[kind];
    if (size === undefined) throw fail(`value type ${kind}`);
    pos += size;
    const at = pos - size;
    if (kind === "u32") return buf.readUInt32LE(at);
    if (kind === "i32") return buf.readInt32LE(at);
    if (kind === "f32") return buf.readFloatLE(at);
    if (kind === "bool") return buf.readUInt8(at) !== 0;
    if (kind === "u64") return Number(buf.readBigUInt64LE(at));
    if (kind === "f64") return buf.readDoubleLE(at);
    return Number(buf.readIntLE(at, Math.min(size, 6)));
  };
  if (buf.toString("latin1", 0, 4) !== "GGUF") throw fail("no GGUF magic");
  pos = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const kind = NAMES[u32()] ?? "unknown";
    if (kind === "array") {
      const of = NAMES[u32()] ?? "unknown";
      const n = u64();
      const value = Array.from({ length: n }, () => scalar(of));
      metadata.set(key, { kind: "array", of: of as ScalarKind, value });
    } else metadata.set(key, { kind, value: scalar(kind) } as GgufValue);
  }
  const infos: { name: string; shape: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const dims = Array.from({ length: u32() }, () => u64()).reverse();
    infos.push({ name, shape: dims, type: u32(), offset: u64() });
  }
  const alignment = metadata.get("general.alignment")?.value;
  const base = align(pos, typeof alignment === "number" ? alignment : GGUF_ALIGNMENT);
  const tensors = new Map<string, GgufTensor>();
  for (const t of infos) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const start = base + t.offset;
    let dtype: TensorDtype;
    let data: Float32Array;
    if (t.type === TENSOR_TYPE.f32) {
      dtype = "f32";
      data = new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + n * 4));
    } else if (t.type === TENSOR_TYPE.f16) {
      dtype = "f16";
      data = decodeF16(buf.subarray(start, start + n * 2));
    } else if (t.type === TENSOR_TYPE.q8_0) {
      dtype = "q8_0";
      data = dequantizeQ8_0(buf.subarray(start, start + (n / Q8_0_BLOCK) * Q8_0_BYTES));
    } else throw fail(`tensor ${t.name} of ggml type ${t.type}`);
    tensors.set(t.name, { name: t.name, shape: t.shape, dtype, data });
  }
  return { version, metadata, tensors };
}
