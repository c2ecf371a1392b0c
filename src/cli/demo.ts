// `iopo demo [--out runs/demo] [--seed 0] [--seeds 3] [--full] [--quick]` (what `npm start` runs): the miniature
// reproduction — construct once; per seed the starting model, SFT, then SFT-continued, SFT*, DPO, DPO*, IOPO (and
// with --full IOPO*, both ablations, ORPO, SimPO) from that SFT checkpoint; generate, score, intervals, report.
// Wiring only: the work is in src/demo.

import { resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { type DemoLogger, demoConfig, formatResults, runDemo } from "../demo/index.ts";
import { checkOutputDir } from "../io/index.ts";
import { phaseTotals } from "../report/index.ts";
import { exitOnStopSignals, resumeCommand } from "./backend.ts";
import { int, parseOptions } from "./util.ts";

const OptionsSchema = z.strictObject({
  out: z.string().min(1).default("runs/demo"),
  seed: int("seed", 0).default(0),
  seeds: int("seeds", 1).optional(),
  full: z.boolean().default(false),
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
    .description(
      "reproduce the paper in miniature: construct → SFT → SFT-continued / SFT* / DPO / DPO* / IOPO → evaluate → intervals → report",
    )
    .option("--out <dir>", "run directory (every artefact; rerun to resume)", "runs/demo")
    .option(
      "--seed <n>",
      "seed of construction; run k uses seed + k for data order (and a new model's initialisation)",
      "0",
    )
    .option("--seeds <n>", "runs with different data order (and a new model's initialisation; default 3, --quick 2)")
    .option("--full", "also IOPO*, both ablations (w/o input, w/o output preference), ORPO and SimPO")
    .option("--quick", "a tiny configuration with every method that finishes in under a minute (tests)")
    .addHelpText(
      "after",
      "\nExamples:\n  npm start\n  iopo demo --full --out runs/demo-full\n  iopo demo --out runs/demo-s10 --seed 10 --seeds 5\n  iopo demo --quick --out /tmp/q",
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(OptionsSchema, raw, "demo");
      checkOutputDir(o.out, "--out");
      const config = demoConfig(o.quick ? "quick" : "full", o.seed, {
        full: o.full,
        ...(o.seeds !== undefined ? { seeds: o.seeds } : {}),
      });
      const dir = resolve(o.out);
      const log = consoleDemoLogger();
      log.info(
        `iopo demo: profile ${config.profile}, seeds ${config.seed}…${config.seed + config.seeds - 1}, ` +
          `methods ${config.methods.join(", ")}, run directory ${dir}`,
      );
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
      const times = Object.entries(phaseTotals(results.timings)).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
      process.stdout.write(`phase times (summed over seeds): ${times.join(", ")}\n`);
      process.stdout.write(
        `all phases: ${results.total_seconds.toFixed(1)} s (${(results.total_seconds / 60).toFixed(1)} min), ` +
          `CPU ${results.total_cpu_seconds.toFixed(1)} s; this invocation: ${wall.toFixed(1)} s\n`,
      );
      process.stdout.write(`results: ${dir}/results.json\nreport:  ${report}\n`);
    });
}
