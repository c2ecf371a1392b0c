import assert from "node:assert/strict";
import { test } from "node:test";
import { pyIsLower, pyIsUpper, pyRegex, pySplit, pyStrip } from "../../../src/checks/ifeval/index.ts";

test("\\w, \\d and \\b are Unicode-aware as in Python 3", () => {
  assert.deepEqual("naïve café 42 ٤٢".match(pyRegex("\\w+", "g")), ["naïve", "café", "42", "٤٢"]);
  assert.ok(pyRegex("\\d").test("٣"));
  assert.ok(pyRegex("\\bcafé\\b", "i").test("Le CAFÉ noir"));
  assert.ok(!pyRegex("\\bcat\\b").test("concatenate"));
});

test("$ also matches before a final newline; . does not match newline; ^ in multiline mode", () => {
  assert.ok(pyRegex("end$").test("the end\n"));
  assert.ok(!pyRegex("end$").test("the end\n\n"));
  assert.ok(!pyRegex("a.b").test("a\nb"));
  assert.ok(pyRegex("a.b").test("a\rb"));
  assert.equal("x\n* a\n* b".match(pyRegex("^\\*.*$", "mg"))?.length, 2);
});

test("Python-only syntax translates: inline flags, named groups, comments, literal braces", () => {
  assert.ok(pyRegex("(?i)hello").test("HELLO"));
  assert.equal(pyRegex("(?P<w>ab)(?#comment)c").exec("xabc")?.groups?.w, "ab");
  assert.ok(pyRegex("a{").test("a{"));
  assert.ok(pyRegex("x{,2}y").test("xxy"));
  assert.ok(pyRegex("\\#\\&").test("#&"));
});

test("strip, split, isupper and islower follow Python's definitions", () => {
  assert.equal(pyStrip("\u3000 hi \x1c"), "hi");
  assert.equal(pyStrip("\ufeffhi"), "\ufeffhi");
  assert.equal(pyStrip("**hi*", "*"), "hi");
  assert.deepEqual(pySplit("  a \t b\n"), ["a", "b"]);
  assert.ok(pyIsUpper("HELLO, WORLD 42"));
  assert.ok(!pyIsUpper("123 !"));
  assert.ok(!pyIsUpper("HELLo"));
  assert.ok(pyIsLower("hello, world"));
  assert.ok(!pyIsLower("Hello"));
  assert.ok(!pyIsLower("..."));
});
