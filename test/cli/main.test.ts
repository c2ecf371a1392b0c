import assert from "node:assert/strict";
import { test } from "node:test";
import { buildProgram } from "../../src/cli/main.ts";

test("every command has a description and --help", () => {
  const program = buildProgram();
  for (const command of program.commands) {
    assert.ok(command.description().length > 0, `${command.name()} has no description`);
    assert.match(command.helpInformation(), /Usage: /);
  }
});
