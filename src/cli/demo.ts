// `iopo demo [--out runs/demo] [--seed 0] [--quick]` (what `npm start` runs): the miniature reproduction —
// construct, SFT, DPO / IOPO / SFT-continued, generate, score, report. Wiring only: the work is in src/demo.

import { resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { type DemoLogger, demoConfig, formatResults, runDemo } from "../demo/index.ts";
import { checkOutputDir } from "../io/index.ts";
import { exitOnStopSignals, resumeCommand } from "./backend.ts";
import { int, parseOptions } from "./util.ts";

const OptionsSchema = z.strictObject({
  out: z.string().min(1).default("runs/demo"),
  seed: int("seed", 0).default(0),
  quick: z.boolean().default(false),
});

/** Progress lines rewrite themselves on a terminal; elsewhere one is printed every 10 s. */
export function consoleDemoLogger(stream: NodeJS.WriteStream = process.stderr): DemoLogger {
  const tty = stream.isTTY === true;
  let pending = false;
  let last = 0;
  return {
    info: (line) => {
      stream.write(`${tty && pending ? "\r\x1b[K" : ""}${line}\n`);
      pending = false;
    },
    progress: (line) => {
      if (tty) {
        stream.write(`\r\x1b[K${line.slice(0, (stream.columns || 160) - 1)}`);
        pending = true;
      } else if (Date.now() - last > 10_000) {
        last = Date.now();
        stream.write(`${line}\n`);
      }
    },
  };
}

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("reproduce the paper in miniature: construct → SFT → DPO / IOPO / SFT-continued → evaluate → report")
    .option("--out <dir>", "run directory (every artefact; rerun to resume)", "runs/demo")
    .option("--seed <n>", "seed of construction, initialisation and data order", "0")
    .option("--quick", "a tiny configuration that finishes in under a minute (tests)")
    .addHelpText(
      "after",
      "\nExamples:\n  npm start\n  iopo demo --out runs/demo-s1 --seed 1\n  iopo demo --quick --out /tmp/q",
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(OptionsSchema, raw, "demo");
      checkOutputDir(o.out, "--out");
      const config = demoConfig(o.quick ? "quick" : "full", o.seed);
      const dir = resolve(o.out);
      const log = consoleDemoLogger();
      log.info(`iopo demo: profile ${config.profile}, seed ${config.seed}, run directory ${dir}`);
      const t0 = performance.now();
      // Every phase's artefacts are written atomically and marked when complete: a rerun skips finished phases.
      const release = exitOnStopSignals("demo", `finished phases in ${dir} are kept`, resumeCommand());
      let done: Awaited<ReturnType<typeof runDemo>>;
      try {
        done = await runDemo({ dir, config, logger: log });
      } finally {
        release();
      }
      const { results, report } = done;
      const wall = (performance.now() - t0) / 1000;
      process.stdout.write(`\n${formatResults(results)}\n\n`);
      const times = Object.entries(results.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
      process.stdout.write(`phase times: ${times.join(", ")}\n`);
      process.stdout.write(`this invocation: ${wall.toFixed(1)} s\n`);
      process.stdout.write(`results: ${dir}/results.json\nreport:  ${report}\n`);
    });
}
