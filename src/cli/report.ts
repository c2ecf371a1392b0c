// `iopo report <run-dir>`: recompute results.json from a demo run's saved generations and rebuild report.html.
// Wiring only: see src/demo (resultsFromDir, writeReport) and src/report/html.ts.

import { resolve } from "node:path";
import type { Command } from "commander";
import { formatResults, readDemoConfig, writeReport } from "../demo/index.ts";

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("rebuild results.json and report.html of a demo run from its artefacts")
    .argument("<run-dir>", "a directory written by `iopo demo`")
    .addHelpText("after", "\nExample:\n  iopo report runs/demo")
    .action(async (runDir: string) => {
      const dir = resolve(runDir);
      await readDemoConfig(dir);
      const { results, report } = await writeReport(dir);
      process.stdout.write(`${formatResults(results)}\n\nresults: ${dir}/results.json\nreport:  ${report}\n`);
    });
}
