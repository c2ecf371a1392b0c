// The list of CLI commands. Each entry is a function that adds one command (with its options) to the program.
// Add a command by writing `src/cli/<name>.ts` exporting `register<Name>` and listing it here.

import type { Command } from "commander";
import { registerConvert } from "./convert.ts";
import { registerGenerate } from "./generate.ts";
import { registerIfeval } from "./ifeval.ts";
import { registerInitModel } from "./init-model.ts";
import { registerStats } from "./stats.ts";

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerStats,
  registerConvert,
  registerInitModel,
  registerIfeval,
  registerGenerate,
];
