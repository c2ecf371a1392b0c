// `npm run bench:requests`: 20,000 chat requests through `iopo generate`'s job (JSONL in → engine with a fresh
// SQLite cache → ordered JSONL out), concurrency 256, against an answer-at-once server in a separate process.
// Each repeat runs in its own child process so peak RSS is per run. Prints requests/s, peak RSS, and medians.
// Options: --n 20000 --concurrency 256 --repeats 3 --heap-mb N (runs the client with --max-old-space-size=N)

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "256" },
    repeats: { type: "string", default: "3" },
    child: { type: "boolean", default: false },
    port: { type: "string" },
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

/** One measured run (child process). */
async function child(port: number): Promise<void> {
  const { OpenAIProvider, RequestEngine, ResponseCache, runGenerateJob } = await import("../src/llm/index.ts");
  const dir = mkdtempSync(join(tmpdir(), "iopo-bench-requests-"));
  try {
    const inPath = join(dir, "in.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < N; i++) lines.push(JSON.stringify({ id: i, prompt: `benchmark prompt number ${i}` }));
    writeFileSync(inPath, `${lines.join("\n")}\n`);
    const cache = ResponseCache.open(join(dir, "cache.sqlite"));
    const provider = new OpenAIProvider({
      baseURL: `http://127.0.0.1:${port}/v1`,
      model: "bench",
      maxSockets: CONCURRENCY,
    });
    const engine = new RequestEngine({ endpoints: [provider], concurrency: CONCURRENCY, cache, timeoutMs: 60_000 });
    await provider.chat([{ role: "user", content: "warm-up" }], {}); // load the SDK before timing
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await runGenerateJob({ inPath, outPath: join(dir, "out.jsonl"), engine, cache });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    cache.close();
    const out: RunResult = {
      requests: result.report.requests,
      seconds,
      rps: result.report.requests / seconds,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      cpuUsPerRequest: (cpu.user + cpu.system) / result.report.requests,
      succeeded: result.report.succeeded,
      p50: result.report.latency_ms.p50,
      p95: result.report.latency_ms.p95,
    };
    process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
    if (process.env.IOPO_BENCH_MEM) process.stderr.write(`${JSON.stringify(process.memoryUsage())}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runNode(args: string[]): { proc: ChildProcess; output: Promise<string> } {
  const heap = values["heap-mb"] ? [`--max-old-space-size=${values["heap-mb"]}`] : [];
  const proc = spawn(process.execPath, [...heap, "--import", "tsx", fileURLToPath(import.meta.url), ...args], {
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
      const { output } = runNode([
        "--child",
        "--port",
        String(port),
        "--n",
        String(N),
        "--concurrency",
        String(CONCURRENCY),
      ]);
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

if (values.child) await child(Number(values.port));
else await main();
