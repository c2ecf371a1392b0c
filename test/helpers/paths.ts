// Paths shared by tests: the reference data beside the repository and the CLI launcher.
import { fileURLToPath } from "node:url";

/** `../shared/data/<rel>` from the repository root. */
export function sharedData(rel: string): string {
  return fileURLToPath(new URL(`../../../shared/data/${rel}`, import.meta.url));
}

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The `iopo` launcher. */
export const BIN = fileURLToPath(new URL("../../bin/iopo.js", import.meta.url));
