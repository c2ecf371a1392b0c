// The `iopo` command line: builds the commander program from one module per command and runs it.
// Commands do wiring only (parse, validate, call the library, print); errors map to exit codes here.

import { Command, CommanderError } from "commander";
import { IopoError } from "../errors.ts";
import { fsHint } from "../io/index.ts";
import { COMMANDS } from "./commands.ts";

/** Build the program; exported so tests can inspect `--help` output. */
export function buildProgram(): Command {
  const program = new Command("iopo")
    .description("Make LLMs follow complex, multi-constraint instructions (IOPO, arXiv:2411.06208).")
    .version("0.1.0")
    .showHelpAfterError("HINT: add --help to the command for its options and examples")
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Run the CLI with `argv` (as `process.argv`); returns the exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof IopoError) {
      process.stderr.write(`iopo: ${err.message}\n`);
      return err.exitCode;
    }
    // A file-system error that escaped a command (EACCES, ENOSPC, …) is the user's environment, not a bug.
    const code = (err as NodeJS.ErrnoException | null)?.code;
    const hint = fsHint(code);
    if (hint) {
      process.stderr.write(`iopo: ${(err as Error).message}\nHINT: ${hint}\n`);
      return 1;
    }
    process.stderr.write(
      `iopo: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
}
