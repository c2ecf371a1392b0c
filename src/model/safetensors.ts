// safetensors, the Hugging Face way: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}, __metadata__},
// header padded with spaces to 8-byte alignment, then raw little-endian data. Reads F32, F16, BF16 (and F64) into
// Float32Array, one tensor at a time straight from the file (no whole-file buffer); writes F32, F16 or BF16 (rounded
// to nearest, ties to even, as torch's casts). Errors name the file. Does not know about models (see params.ts).

import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { endianness } from "node:os";
import { CheckpointError } from "../errors.ts";
import { type HalfTensor, numel } from "./params.ts";

// ---- types ----

export type SafetensorsDtype = "F64" | "F32" | "F16" | "BF16";

/** One entry of the header. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Byte offsets [begin, end) relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

/** An opened file: the parsed header; tensors are read on demand. Call `close()` when done. */
export interface SafetensorsReader {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Header entries in data order. */
  readonly tensors: readonly TensorInfo[];
  /** Read one tensor, converted to Float32. */
  read(name: string): Promise<Float32Array>;
  /** Read a BF16 or F16 tensor as it is stored: its 16-bit patterns. */
  readHalf(name: string): Promise<HalfTensor>;
  close(): Promise<void>;
}

/** A tensor to write: row-major Float32 data of `shape`, stored as `dtype` (default F32). */
export interface TensorToWrite {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  readonly dtype?: WritableDtype;
}

/** The dtypes iopo writes. */
export type WritableDtype = "F32" | "F16" | "BF16";

// ---- helpers ----

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
const LITTLE = endianness() === "LE";
/** Header size limit the HF reference implementation also enforces (100 MB). */
const MAX_HEADER = 100_000_000;

/** IEEE half → float. Handles subnormals, infinities and NaN. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal: frac · 2^-14 · 2^-10
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Decode raw little-endian bytes of `dtype` into a new Float32Array of `n` elements. */
export function decodeToF32(bytes: Uint8Array, dtype: SafetensorsDtype, n: number): Float32Array {
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "F32") for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === "F64") for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
  else if (dtype === "F16") for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
  else {
    // BF16 is the top half of an F32: shift the 16 bits up and reinterpret.
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = view.getUint16(2 * i, true) << 16;
  }
  return out;
}

const F32_BITS = new Uint32Array(1);
const F32_VIEW = new Float32Array(F32_BITS.buffer);

/** float → IEEE half bits, rounded to nearest, ties to even; overflow → ±inf, NaN → quiet NaN. */
export function f32ToF16(v: number): number {
  F32_VIEW[0] = v;
  const x = F32_BITS[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15; // the half's biased exponent
  if (e >= 31) return sign | 0x7c00;
  // Keep the top bits of the 24-bit significand: 10 of them for a normal half, fewer for a subnormal one.
  const m = e > 0 ? mant : mant | 0x800000;
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign; // below half the smallest subnormal
  let r = (e > 0 ? e << 10 : 0) | (m >>> shift);
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && r & 1)) r += 1; // a carry into the exponent is the right result (up to inf)
  return sign | r;
}

/** float → bfloat16 bits (the top half of the float), rounded to nearest, ties to even; NaN → quiet NaN. */
export function f32ToBf16(v: number): number {
  F32_VIEW[0] = v;
  const x = F32_BITS[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The little-endian bytes of Float32 data stored as `dtype`. */
function encodeData(data: Float32Array, dtype: WritableDtype): Uint8Array {
  if (dtype === "F32") {
    if (LITTLE) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const bytes = new Uint8Array(data.byteLength);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
    return bytes;
  }
  const bytes = new Uint8Array(2 * data.length);
  const view = new DataView(bytes.buffer);
  const cast = dtype === "F16" ? f32ToF16 : f32ToBf16;
  for (let i = 0; i < data.length; i++) view.setUint16(2 * i, cast(data[i]!), true);
  return bytes;
}

function bad(path: string, message: string, expected: string, got: string): CheckpointError {
  return new CheckpointError(message, { path, expected, got, hint: "the file is not a valid safetensors file" });
}

/** Parse and check a header: dtypes, shapes, contiguous in-bounds offsets. */
function parseHeader(path: string, text: string, dataBytes: number) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad(path, "header is not JSON", "a JSON object", (err as Error).message);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw bad(path, "bad header", "a JSON object", text);
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      for (const [k, v] of Object.entries((value ?? {}) as Record<string, unknown>)) metadata[k] = String(v);
      continue;
    }
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = v?.dtype as SafetensorsDtype;
    if (!(typeof dtype === "string" && dtype in BYTES))
      throw bad(path, `tensor ${name}: unsupported dtype`, "F32, F16, BF16 or F64", String(v?.dtype));
    const shape = v.shape as number[];
    const offs = v.data_offsets as number[];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw bad(path, `tensor ${name}: bad shape`, "an array of non-negative integers", JSON.stringify(v.shape));
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isInteger(d) && d >= 0))
      throw bad(path, `tensor ${name}: bad data_offsets`, "[begin, end]", JSON.stringify(v.data_offsets));
    const [begin, end] = offs as [number, number];
    if (end - begin !== numel(shape) * BYTES[dtype])
      throw bad(path, `tensor ${name}: size mismatch`, `${numel(shape) * BYTES[dtype]} bytes`, `${end - begin}`);
    tensors.push({ name, dtype, shape, begin, end });
  }
  tensors.sort((a, b) => a.begin - b.begin);
  let at = 0;
  for (const t of tensors) {
    if (t.begin !== at) throw bad(path, `tensor ${t.name}: data not contiguous`, `offset ${at}`, `${t.begin}`);
    at = t.end;
  }
  if (at !== dataBytes) throw bad(path, "data section size", `${at} bytes (from the header)`, `${dataBytes}`);
  return { metadata, tensors };
}

async function readExactly(fh: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await fh.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) throw bad(path, "file is truncated", `${target.byteLength} bytes`, `${done}`);
    done += bytesRead;
  }
}

async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) done += (await fh.write(bytes, done, bytes.byteLength - done)).bytesWritten;
}

// ---- exports ----

/** Open a safetensors file and parse its header. Tensors are read one by one with `read(name)`. */
export async function openSafetensors(path: string): Promise<SafetensorsReader> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw new CheckpointError("cannot open safetensors file", { path, got: String(err), cause: err });
  }
  try {
    const size = (await fh.stat()).size;
    if (size < 8) throw bad(path, "file too small", "at least 8 bytes", `${size}`);
    const lenBytes = new Uint8Array(8);
    await readExactly(fh, lenBytes, 0, path);
    const headerLen = Number(new DataView(lenBytes.buffer).getBigUint64(0, true));
    if (headerLen > MAX_HEADER || 8 + headerLen > size)
      throw bad(path, "bad header length", `at most ${Math.min(MAX_HEADER, size - 8)}`, `${headerLen}`);
    const headerBytes = new Uint8Array(headerLen);
    await readExactly(fh, headerBytes, 8, path);
    const start = 8 + headerLen;
    const { metadata, tensors } = parseHeader(path, new TextDecoder().decode(headerBytes), size - start);
    const byName = new Map(tensors.map((t) => [t.name, t]));
    return {
      path,
      metadata,
      tensors,
      async readHalf(name: string): Promise<HalfTensor> {
        const t = byName.get(name);
        if (!t) throw new CheckpointError("no such tensor", { path, field: name, expected: "a key of the header" });
        if (t.dtype !== "BF16" && t.dtype !== "F16")
          throw new CheckpointError("not a half-precision tensor", {
            path,
            field: name,
            expected: "BF16 or F16",
            got: t.dtype,
          });
        const bits = new Uint16Array(numel(t.shape));
        await readExactly(fh, new Uint8Array(bits.buffer), start + t.begin, path);
        if (!LITTLE) for (let i = 0; i < bits.length; i++) bits[i] = ((bits[i]! & 0xff) << 8) | (bits[i]! >> 8);
        return { dtype: t.dtype === "BF16" ? "bfloat16" : "float16", bits };
      },
      async read(name: string): Promise<Float32Array> {
        const t = byName.get(name);
        if (!t) throw new CheckpointError("no such tensor", { path, field: name, expected: "a key of the header" });
        const n = numel(t.shape);
        if (t.dtype === "F32" && LITTLE) {
          // Read straight into the result's memory: no intermediate copy.
          const out = new Float32Array(n);
          await readExactly(fh, new Uint8Array(out.buffer), start + t.begin, path);
          return out;
        }
        const raw = new Uint8Array(t.end - t.begin);
        await readExactly(fh, raw, start + t.begin, path);
        return decodeToF32(raw, t.dtype, n);
      },
      close: () => fh.close(),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Read every tensor of a file into Float32Arrays, keyed by name (in data order). */
export async function readSafetensors(path: string): Promise<{
  metadata: Record<string, string>;
  tensors: Map<string, { shape: readonly number[]; dtype: SafetensorsDtype; data: Float32Array }>;
}> {
  const reader = await openSafetensors(path);
  try {
    const tensors = new Map<string, { shape: readonly number[]; dtype: SafetensorsDtype; data: Float32Array }>();
    for (const t of reader.tensors)
      tensors.set(t.name, { shape: t.shape, dtype: t.dtype, data: await reader.read(t.name) });
    return { metadata: { ...reader.metadata }, tensors };
  } finally {
    await reader.close();
  }
}

/** The header bytes (length prefix + space-padded JSON) for tensors written in the given order. */
export function encodeHeader(tensors: readonly TensorToWrite[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let at = 0;
  for (const t of tensors) {
    if (t.data.length !== numel(t.shape))
      throw new CheckpointError(`tensor ${t.name}: data length does not match its shape`, {
        expected: `${numel(t.shape)} elements for [${t.shape.join(", ")}]`,
        got: `${t.data.length}`,
      });
    const dtype = t.dtype ?? "F32";
    const size = BYTES[dtype] * t.data.length;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [at, at + size] };
    at += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // so the data section starts 8-byte aligned, as HF pads
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/**
 * Write tensors (in the given order, each as its dtype) to `path` atomically: a temporary sibling is written tensor by tensor,
 * then renamed, so a crash never leaves a half-written file.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata: Record<string, string> = { format: "pt" },
): Promise<void> {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new CheckpointError("duplicate tensor name", { path, field: t.name });
    seen.add(t.name);
  }
  const header = encodeHeader(tensors, metadata);
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, "w");
  try {
    await writeAll(fh, header);
    for (const t of tensors) await writeAll(fh, encodeData(t.data, t.dtype ?? "F32"));
    await fh.close();
    await rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw new CheckpointError("cannot write safetensors file", { path, got: String(err), cause: err });
  }
}
