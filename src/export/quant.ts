// Number formats of a GGUF file written by hand: f32 → f16 (IEEE binary16, round to nearest even) and ggml's
// Q8_0 blocks (32 weights share one f16 scale d = max|x| / 127; each weight is the int8 round(x / d), half away
// from zero), with their inverses. Does not know about tensors or files (see gguf-file.ts).

import { f16ToF32 } from "../model/index.ts";

// ---- helpers ----

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Weights per Q8_0 block, and bytes per block (an f16 scale and 32 int8). */
export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 2 + Q8_0_BLOCK;

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Round half away from zero, as C's roundf (Math.round rounds half toward +∞). */
function roundAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

// ---- exports ----

/** The f16 bit pattern nearest to `value` (ties to even; overflow → ±inf; NaN stays NaN). */
export function f32ToF16(value: number): number {
  F32[0] = value;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15; // the f16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal f16: m × 2^-24 with m = (1.mant) × 2^(e-1) × 2^10, i.e. the 24-bit significand >> (14 - e).
    if (e < -10) return sign;
    const sig = mant | 0x800000;
    const shift = 14 - e;
    let half = sig >>> shift;
    const rem = sig & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half += 1; // a carry may roll into the exponent (→ inf): correct
  return sign | half;
}

/** Encode Float32 values as little-endian f16 (typed-array stores on little-endian hosts, else DataView). */
export function encodeF16(data: Float32Array): Buffer {
  const bits = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) bits[i] = f32ToF16(data[i]!);
  if (LITTLE_ENDIAN) return Buffer.from(bits.buffer);
  const out = Buffer.alloc(data.length * 2);
  for (let i = 0; i < bits.length; i++) out.writeUInt16LE(bits[i]!, i * 2);
  return out;
}

/** Decode little-endian f16 bytes to Float32. */
export function decodeF16(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
  return out;
}

/**
 * Quantise to Q8_0 as ggml's reference quantize_row_q8_0 does: per block of 32, d = amax / 127 in f32,
 * q = roundf(x · (1/d)) with the f32 inverse of the unrounded d, and d stored as f16. `data.length` must be a
 * multiple of 32 (rows are quantised whole; callers check the row length).
 */
export function quantizeQ8_0(data: Float32Array): Buffer {
  const blocks = data.length / Q8_0_BLOCK;
  const out = Buffer.alloc(blocks * Q8_0_BYTES);
  const qs = new Int8Array(out.buffer, out.byteOffset, out.byteLength); // int8 view of the same bytes
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(data[base + j]!));
    const d = Math.fround(amax / 127);
    const id = d === 0 ? 0 : Math.fround(1 / d);
    out.writeUInt16LE(f32ToF16(d), b * Q8_0_BYTES);
    const at = b * Q8_0_BYTES + 2;
    for (let j = 0; j < Q8_0_BLOCK; j++) qs[at + j] = roundAway(Math.fround(data[base + j]! * id));
  }
  return out;
}

/** Dequantise Q8_0 blocks: x = f16(d) · q. */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const blocks = bytes.byteLength / Q8_0_BYTES;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(blocks * Q8_0_BLOCK);
  for (let b = 0; b < blocks; b++) {
    const d = f16ToF32(buf.readUInt16LE(b * Q8_0_BYTES));
    for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = d * buf.readInt8(b * Q8_0_BYTES + 2 + j);
  }
  return out;
}
