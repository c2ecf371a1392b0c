// Benchmark: offline construction of N instructions (default 10,000) and their groups, through the real
// resumable pipeline (files in a temp dir). Prints instructions/s for trace, groups and end to end (median of
// --repeat runs, wall clock), the CPU time of the same runs (process.cpuUsage: user + system, all threads —
// steadier than wall time on a shared machine) and peak RSS.
// Usage: npm run bench:construct -- [--n 10000] [--repeat 3] [--seed 0] [--groups strict|loose]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constructGroups, constructTrace, OfflineRoles } from "../src/construct/index.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const n = arg("n", 10_000);
const repeat = arg("repeat", 3);
const seed = arg("seed", 0);
const gi = process.argv.indexOf("--groups");
const mode = gi >= 0 && process.argv[gi + 1] === "loose" ? "loose" : "strict";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
const wall = { trace: [] as number[], groups: [] as number[], e2e: [] as number[] };
const cpu = { trace: [] as number[], groups: [] as number[], e2e: [] as number[] };
let kept = 0;
let made = 0;
let pairs = 0;
for (let r = 0; r < repeat; r++) {
  const dir = mkdtempSync(join(tmpdir(), "iopo-bench-construct-"));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const f = await constructTrace({ dir, roles: new OfflineRoles({ seed }), seed, n, concurrency: 8 });
  const c1 = process.cpuUsage(c0);
  const t1 = performance.now();
  const g = await constructGroups({ dir, roles: new OfflineRoles({ seed }), seed, concurrency: 8, mode });
  const c2 = process.cpuUsage(c0);
  const t2 = performance.now();
  kept = f.records_out.instructions!;
  made = g.records_out.groups!;
  pairs = g.records_out.dpo_pairs!;
  wall.trace.push(t1 - t0);
  wall.groups.push(t2 - t1);
  wall.e2e.push(t2 - t0);
  cpu.trace.push(cpuMs(c1));
  cpu.groups.push(cpuMs(c2) - cpuMs(c1));
  cpu.e2e.push(cpuMs(c2));
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`run ${r + 1}/${repeat}: ${(t2 - t0).toFixed(0)} ms wall, ${cpuMs(c2).toFixed(0)} ms CPU\n`);
}
const rss = process.resourceUsage().maxRSS / 1024;
const rate = (records: number, ms: number) => `${((records / ms) * 1000).toFixed(0)}`.padStart(6);
const row = (name: string, records: number, key: keyof typeof wall, note = "") =>
  console.log(
    `  ${name.padEnd(10)} ${rate(records, median(wall[key]))} instructions/s wall   ${rate(records, median(cpu[key]))} instructions/s of CPU time${note}`,
  );
console.log(
  `offline construct: ${n} seeds → ${kept} instructions → ${made} ${mode} groups, ${pairs} DPO pairs (seed ${seed}, median of ${repeat})`,
);
row("trace", n, "trace");
row("groups", kept, "groups");
row("end to end", n, "e2e", "  (target ≥ 1000 wall)");
console.log(
  `  medians: wall ${median(wall.e2e).toFixed(0)} ms, CPU ${median(cpu.e2e).toFixed(0)} ms; peak RSS ${rss.toFixed(0)} MB`,
);
