// Symbolic shapes: a dim is a number or a product of named symbols ("B", "B*T", "2*B").
// Broadcasting, dim arithmetic and formatting. Does not know about ops or graphs.

import { ShapeError } from "../errors.ts";
import { callerSite } from "./site.ts";

// ---- types ----

/** One dimension: a concrete size, or a canonical product of symbols such as "B" or "4*B*T". */
export type Dim = number | string;
export type Shape = readonly Dim[];
/**
 * Value types. `bfloat16` and `float16` are half-precision weights held as stored (graph inputs and rows gathered
 * from them; half.ts upcasts them); both are fed as their 16-bit patterns.
 */
export type DType = "float32" | "float64" | "int64" | "int32" | "bool" | "bfloat16" | "float16";

/** A half-precision storage type (only upcast from, never computed in). */
export const isHalf = (t: DType): t is "bfloat16" | "float16" => t === "bfloat16" || t === "float16";

// ---- helpers ----

interface Monomial {
  coef: number;
  syms: string[]; // sorted, with repetition
}

function parse(d: Dim): Monomial {
  if (typeof d === "number") return { coef: d, syms: [] };
  let coef = 1;
  const syms: string[] = [];
  for (const part of d.split("*")) {
    const t = part.trim();
    if (/^\d+$/.test(t)) coef *= Number(t);
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) syms.push(t);
    else throw new ShapeError("bad symbolic dim", { expected: "a number or a product like B*T", got: String(d) });
  }
  syms.sort();
  return { coef, syms };
}

function render(m: Monomial): Dim {
  if (m.syms.length === 0) return m.coef;
  return (m.coef === 1 ? "" : `${m.coef}*`) + m.syms.join("*");
}

// ---- exports ----

/** Canonical form of a dim ("T*B" → "B*T", "1*B" → "B"). */
export const dim = (d: Dim): Dim => (typeof d === "number" || !d.includes("*") ? d : render(parse(d)));
export const dimEq = (a: Dim, b: Dim): boolean => a === b || (typeof a !== typeof b ? false : dim(a) === dim(b));
export const isStatic = (s: Shape): s is readonly number[] => s.every((d) => typeof d === "number");

export function dimMul(a: Dim, b: Dim): Dim {
  const x = parse(a);
  const y = parse(b);
  return render({ coef: x.coef * y.coef, syms: [...x.syms, ...y.syms].sort() });
}

/** Exact division of dims; undefined when `b` does not divide `a`. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  const x = parse(a);
  const y = parse(b);
  if (y.coef === 0 || x.coef % y.coef !== 0) return undefined;
  const syms = [...x.syms];
  for (const s of y.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return render({ coef: x.coef / y.coef, syms });
}

export const numel = (s: Shape): Dim => s.reduce<Dim>((acc, d) => dimMul(acc, d), 1);

/** The symbols a dim is made of, e.g. "2*B*T" → ["B", "T"]. */
export const dimSymbols = (d: Dim): { coef: number; syms: string[] } => parse(d);

export const formatShape = (s: Shape): string => `[${s.join(", ")}]`;

/** Numpy broadcasting of two shapes; symbolic dims must match exactly or one side must be 1. */
export function broadcastShapes(a: Shape, b: Shape, what: string): Shape {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
    const y = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
    if (dimEq(x, y) || y === 1) out.push(dim(x));
    else if (x === 1) out.push(dim(y));
    else
      throw new ShapeError(`${callerSite()}: ${what}: shapes do not broadcast`, {
        expected: "equal dims or 1 on each axis",
        got: `${formatShape(a)} and ${formatShape(b)}`,
      });
  }
  return out;
}

/** Resolve a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throw new ShapeError(`${callerSite()}: ${what}: axis out of range`, {
      expected: `an axis in [${-rank}, ${rank - 1}]`,
      got: String(axis),
    });
  return a;
}
