import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInstruction, LANGUAGE_CODES, parseInstruction } from "../../../src/checks/ifeval/index.ts";

const run = (language: string, response: string) => {
  const p = parseInstruction("language:response_language", { language });
  if (!p.success) throw p.error;
  return checkInstruction(response, p.def);
};

test("response_language compares langdetect's answer with the kwarg", () => {
  assert.equal(run("ru", "Это предложение на русском языке.").ok, true);
  assert.deepEqual(run("de", "This is a plain English sentence about the weather today."), {
    ok: false,
    issues: [{ code: "wrong_language", expected: "German", got: "en" }],
  });
});

test("text langdetect cannot classify counts as followed, as in the official checker", () => {
  assert.equal(run("fr", "1234 5678 !!!").ok, true);
});

test("only the 30 official language codes are accepted", () => {
  assert.equal(Object.keys(LANGUAGE_CODES).length, 30);
  assert.equal(parseInstruction("language:response_language", { language: "xx" }).success, false);
});
