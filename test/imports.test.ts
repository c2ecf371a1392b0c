// Each folder's index.ts is its public surface (STYLE 4): scan every import and re-export in src/** and refuse one
// that reaches into another top-level folder past its index.ts. A folder without an index.ts of its own (checks)
// is entered through its sub-folders' index.ts files. Top-level files (errors.ts) are importable as they are.

import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Relative module specifiers of a file: static imports, `export … from`, and dynamic `import("…")`. */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+"(\.[^"]+)"/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Why `target` may not be imported from `file`, or null when it may. */
export function violation(file: string, target: string, src = SRC): string | null {
  const top = (p: string) => relative(src, p).split(sep)[0]!;
  const from = top(file);
  const to = top(target);
  if (!target.startsWith(src) || from === to) return null;
  if (to.endsWith(".ts")) return null; // a top-level file such as errors.ts
  const folderIndex = join(src, to, "index.ts");
  if (target === folderIndex) return null;
  if (existsSync(folderIndex)) return `import ${relative(src, folderIndex)} instead`;
  // No index of the folder itself: a sub-folder's index.ts is the surface.
  return target.endsWith(`${sep}index.ts`)
    ? null
    : `import ${relative(src, join(dirname(target), "index.ts"))} instead`;
}

test("the scanner sees static, type-only, re-export, multi-line and dynamic imports", () => {
  const text = [
    'import { a } from "../x/a.ts";',
    'import type { B } from "../y/index.ts";',
    'export { c } from "./c.ts";',
    'import {\n  d,\n  e,\n} from "../z/d.ts";',
    'const m = await import("../model/generate.ts");',
    'import "./side-effect.ts";',
  ].join("\n");
  assert.deepEqual(specifiers(text).sort(), [
    "../model/generate.ts",
    "../x/a.ts",
    "../y/index.ts",
    "../z/d.ts",
    "./c.ts",
    "./side-effect.ts",
  ]);
  const f = join(SRC, "cli", "x.ts");
  assert.equal(violation(f, join(SRC, "cli", "util.ts")), null, "same folder");
  assert.equal(violation(f, join(SRC, "errors.ts")), null, "top-level file");
  assert.equal(violation(f, join(SRC, "io", "index.ts")), null, "a folder's index");
  assert.match(violation(f, join(SRC, "io", "jsonl.ts")) ?? "", /import io\/index\.ts instead/);
  assert.match(violation(f, join(SRC, "evaluate", "trace", "index.ts")) ?? "", /evaluate\/index\.ts/);
});

test("no file in src/ imports another folder's internals (only its index.ts)", () => {
  const bad: string[] = [];
  for (const file of sources(SRC)) {
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      const why = violation(file, resolve(dirname(file), spec));
      if (why) bad.push(`${relative(SRC, file)}: "${spec}" — ${why}`);
    }
  }
  assert.deepEqual(bad, [], `${bad.length} import(s) reach past a folder's index.ts:\n${bad.join("\n")}`);
});
