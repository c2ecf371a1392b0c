import assert from "node:assert/strict";
import { test } from "node:test";
import { detectableLanguages, detectLanguage, NoFeaturesError } from "../../../src/checks/ifeval/index.ts";

// Expected codes produced by Python langdetect 1.0.9 with DetectorFactory.seed = 0.
const CASES: Array<[string, string]> = [
  ["This is a plain English sentence about the weather today.", "en"],
  ["Ceci est une phrase en français sur le temps qu'il fait.", "fr"],
  ["これは日本語の文章です。", "ja"],
  ["Это предложение на русском языке.", "ru"],
  ["THIS IS ALL CAPS ENGLISH TEXT ABOUT DOGS.", "en"],
  ["Das ist ein deutscher Satz über das Wetter.", "de"],
  ["यह हिंदी में लिखा गया एक वाक्य है।", "hi"],
  ["Ok ok si si", "tr"],
  ["C'EST LA VIE, MON AMI. JE NE SAIS PAS POURQUOI.", "en"],
];

test("detects languages as seeded Python langdetect does", () => {
  for (const [text, want] of CASES) assert.equal(detectLanguage(text), want, text);
});

test("is deterministic: the same text always gets the same answer", () => {
  const text = "Ok ok si si";
  const first = detectLanguage(text);
  for (let i = 0; i < 5; i++) assert.equal(detectLanguage(`${text}`), first);
});

test("text without letters raises NoFeaturesError, as langdetect's LangDetectException", () => {
  assert.throws(() => detectLanguage("12345 !!! ..."), NoFeaturesError);
});

test("ships the 55 langdetect profiles", () => {
  assert.equal(detectableLanguages().length, 55);
  assert.ok(detectableLanguages().includes("zh-cn"));
});
