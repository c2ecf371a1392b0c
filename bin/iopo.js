#!/usr/bin/env node
// Launcher: runs the compiled build (dist/, made by `npm ci` / `npm run build`) when it is current, else the
// TypeScript sources through tsx (no build step needed while developing).
import { distIsFresh } from "./fresh.js";

let main;
if (distIsFresh()) {
  ({ main } = await import("../dist/cli/main.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/main.ts"));
}
process.exitCode = await main(process.argv);
