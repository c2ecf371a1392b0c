// Decides whether dist/ (the compiled build) is current: it exists and no file in src/ is newer than its stamp.
// Used by bin/iopo.js and the benchmarks, so a stale build is never run.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/** True when dist/ holds a build at least as new as every source file. */
export function distIsFresh() {
  let stamp;
  try {
    stamp = statSync(join(root, "dist", ".build-stamp")).mtimeMs;
  } catch {
    return false;
  }
  return newest(join(root, "src")) <= stamp;
}
