// Build: compile src/ to dist/ (JavaScript with `.d.ts` declarations for the package's `exports` map; `.ts`
// imports rewritten to `.js`) and copy the data files the code reads beside itself (prompts, checker data).
// bin/iopo.js runs dist/ when it is newer than every file in src/, else the TypeScript sources through tsx, so a
// stale build is never used. Runs on `npm ci` and `npm pack` (prepare) and `npm run build`.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const dist = join(root, "dist");

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json")],
  {
    stdio: "inherit",
  },
);
if (tsc.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write("build: tsc failed; bin/iopo.js will run the TypeScript sources through tsx\n");
  process.exit(1);
}

/** Copy every non-TypeScript file the code reads at run time (not READMEs or generator scripts). */
function copyAssets(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, entry.name);
    if (entry.isDirectory()) copyAssets(from);
    else if (!/\.ts$|README\.md$|\.py$/.test(entry.name)) {
      const to = join(dist, from.slice(src.length));
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
    }
  }
}
copyAssets(src);
// Written last: its time marks the build, and bin/iopo.js compares it with the sources.
writeFileSync(join(dist, ".build-stamp"), `${new Date().toISOString()}\n`);
