// One measured run of `npm run bench:requests`, in its own process: `iopo generate`'s job from the compiled build
// (dist/, as the `iopo` command runs it), so peak RSS is what a user's process has. Prints `RESULT {json}`.
// Usage: node scripts/bench-requests-client.mjs <port> <n> <concurrency>

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [port, N, CONCURRENCY] = process.argv.slice(2).map(Number);
const { OpenAIProvider, RequestEngine, ResponseCache, runGenerateJob } = await import("../dist/llm/index.js");
const dir = mkdtempSync(join(tmpdir(), "iopo-bench-requests-"));
try {
  const inPath = join(dir, "in.jsonl");
  const lines = [];
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
  const out = {
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
