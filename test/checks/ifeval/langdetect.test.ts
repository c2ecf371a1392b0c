import assert from "node:assert/strict";
import { test } from "node:test";
import {
  clearLanguageCache,
  detectableLanguages,
  detectLanguage,
  NoFeaturesError,
} from "../../../src/checks/ifeval/index.ts";

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

// Several lines (the detector reuses a line's n-grams across texts), a URL, a mail address, Vietnamese marks,
// mixed scripts; expected codes from Python langdetect 1.0.9 with DetectorFactory.seed = 0.
const MULTILINE: Array<[string, string]> = [
  [
    "**Summary**\n\nThe quick brown fox jumps over the lazy dog.\n* It was *very* quick.\n* The dog did not mind.",
    "en",
  ],
  ["Visit https://example.com/some/path for details about the weather today.\nThe forecast says rain.", "en"],
  ["Contact me at someone@example.com today.\nEste es un texto en español para la prueba.", "es"],
  ["Tiếng Việt là ngôn ngữ chính thức của Việt Nam.\nNó được viết bằng chữ Quốc ngữ.", "vi"],
  ["这是一个中文句子。\nThis line is English but short.\n第三行还是中文。", "en"],
  ["first line in english\nzweite Zeile ist auf Deutsch und etwas länger als die erste Zeile\n", "de"],
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

test("multi-line texts get Python's answers, whatever was detected before", () => {
  clearLanguageCache();
  for (const [text, want] of MULTILINE) assert.equal(detectLanguage(text), want, text);
  // Again in reverse order after the line cache has filled up with these texts' lines and their pieces.
  for (const [text] of MULTILINE) for (const line of text.split("\n")) if (line.trim()) detectLanguage(line);
  for (const [text, want] of [...MULTILINE].reverse()) {
    assert.equal(detectLanguage(text), want, text);
    clearLanguageCache();
    assert.equal(detectLanguage(text), want, text);
  }
});
