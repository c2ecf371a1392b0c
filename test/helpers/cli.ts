// Run the real `iopo` CLI in a child process and capture its exit code and output.
import { spawn } from "node:child_process";
import { BIN } from "./paths.ts";

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `iopo init-model` of a tiny Qwen2 (1 layer, hidden 32) at `out` with a tokenizer trained on `vocabFrom`. */
export function initTinyModel(out: string, vocabFrom: string): Promise<CliResult> {
  return runCli([
    "init-model",
    "--out",
    out,
    "--vocab-from",
    vocabFrom,
    "--vocab-size",
    "300",
    "--hidden",
    "32",
    "--layers",
    "1",
    "--heads",
    "2",
    "--kv-heads",
    "1",
    "--intermediate",
    "64",
  ]);
}
