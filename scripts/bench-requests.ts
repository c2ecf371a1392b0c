// `npm run bench:requests`: 20,000 chat requests through `iopo generate`'s job (JSONL in → engine with a fresh
// SQLite cache → ordered JSONL out), concurrency 256, against an answer-at-once server in a separate process.
// Each repeat runs in its own child process (scripts/bench-requests-client.mjs, on the compiled build) so peak RSS
// is per run and is what the `iopo` command has. Prints requests/s, peak RSS, and medians.
// Options: --n 20000 --concurrency 256 --repeats 3 --heap-mb N (runs the client with --max-old-space-size=N)

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { distIsFresh } from "../bin/fresh.js";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "256" },
    repeats: { type: "string", default: "3" },
    "heap-mb": { type: "string" },
  },
});
const N = Number(values.n);
const CONCURRENCY = Number(values.concurrency);

interface RunResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly peakRssMB: number;
  readonly cpuUsPerRequest: number;
  readonly succeeded: number;
  readonly p50: number | null;
  readonly p95: number | null;
}

function runClient(args: string[]): { proc: ChildProcess; output: Promise<string> } {
  const heap = values["heap-mb"] ? [`--max-old-space-size=${values["heap-mb"]}`] : [];
  const client = fileURLToPath(new URL("./bench-requests-client.mjs", import.meta.url));
  const proc = spawn(process.execPath, [...heap, client, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let text = "";
  proc.stdout!.on("data", (d) => (text += d));
  return { proc, output: new Promise((resolve) => proc.on("close", () => resolve(text))) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const serverPath = fileURLToPath(new URL("./bench-requests-server.ts", import.meta.url));
  const server = spawn(process.execPath, ["--import", "tsx", serverPath], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = "";
    server.stdout!.on("data", (d) => {
      text += d;
      const m = /PORT (\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    server.on("exit", () => reject(new Error("the benchmark server exited early")));
  });
  const heapNote = values["heap-mb"] ? `  client --max-old-space-size=${values["heap-mb"]}` : "";
  console.log(
    `bench:requests  n=${N}  concurrency=${CONCURRENCY}${heapNote}  server pid ${server.pid} on 127.0.0.1:${port}`,
  );
  const results: RunResult[] = [];
  try {
    for (let r = 0; r < Number(values.repeats); r++) {
      const { output } = runClient([String(port), String(N), String(CONCURRENCY)]);
      const line = (await output).split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) throw new Error("a benchmark run printed no result");
      const res = JSON.parse(line.slice(7)) as RunResult;
      if (res.succeeded !== N) throw new Error(`only ${res.succeeded}/${N} requests succeeded`);
      results.push(res);
      console.log(
        `run ${r + 1}: ${res.rps.toFixed(0)} req/s  (${res.seconds.toFixed(2)} s)  peak RSS ${res.peakRssMB.toFixed(0)} MB  ` +
          `client CPU ${res.cpuUsPerRequest.toFixed(0)} µs/request  latency p50 ${res.p50} ms p95 ${res.p95} ms`,
      );
    }
  } finally {
    server.kill("SIGTERM");
  }
  const rps = median(results.map((r) => r.rps));
  const rss = median(results.map((r) => r.peakRssMB));
  console.log(
    `median: ${rps.toFixed(0)} requests/s (target ≥ 2000), peak RSS ${rss.toFixed(0)} MB (target ≤ 250), ` +
      `client CPU ${median(results.map((r) => r.cpuUsPerRequest)).toFixed(0)} µs/request`,
  );
}

// The client runs the compiled build, as the `iopo` command does: build it first when it is missing or stale.
if (!distIsFresh()) {
  console.log("building dist/ (npm run build) …");
  const build = spawnSync(process.execPath, [fileURLToPath(new URL("./build.mjs", import.meta.url))], {
    stdio: "inherit",
  });
  if (build.status !== 0) throw new Error("the build failed");
}
await main();
