// The list of CLI commands. Each entry is a function that adds one command (with its options) to the program.
// Add a command by writing `src/cli/<name>.ts` exporting `register<Name>` and listing it here.

import type { Command } from "commander";
import { registerBenchTrain } from "./bench-train.ts";
import { registerCfbench } from "./cfbench.ts";
import { registerCheck } from "./check.ts";
import { registerConstruct } from "./construct.ts";
import { registerConvert } from "./convert.ts";
import { registerDemo } from "./demo.ts";
import { registerCompare, registerEval } from "./eval.ts";
import { registerExport } from "./export.ts";
import { registerGenerate } from "./generate.ts";
import { registerIfeval } from "./ifeval.ts";
import { registerInitModel } from "./init-model.ts";
import { registerLogps } from "./logps.ts";
import { registerMergeLora } from "./merge-lora.ts";
import { registerReport } from "./report.ts";
import { registerStats } from "./stats.ts";
import { registerTrain } from "./train.ts";

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerEval,
  registerCompare,
  registerStats,
  registerConvert,
  registerInitModel,
  registerIfeval,
  registerCfbench,
  registerGenerate,
  registerBenchTrain,
  registerConstruct,
  registerCheck,
  registerTrain,
  registerLogps,
  registerDemo,
  registerReport,
  registerExport,
  registerMergeLora,
];
