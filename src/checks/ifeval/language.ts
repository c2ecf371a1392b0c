// IFEval group `language:`: response_language (langdetect's top language equals the kwarg; undetectable text
// counts as followed). The kwarg must be one of the 30 codes the official checker knows.

import { z } from "zod";
import { defineChecker, fail, PASS } from "./checker.ts";
import { detectLanguage, NoFeaturesError } from "./langdetect.ts";

/** instructions_util.LANGUAGE_CODES. */
export const LANGUAGE_CODES = {
  en: "English",
  es: "Spanish",
  pt: "Portuguese",
  ar: "Arabic",
  hi: "Hindi",
  fr: "French",
  ru: "Russian",
  de: "German",
  ja: "Japanese",
  it: "Italian",
  bn: "Bengali",
  uk: "Ukrainian",
  th: "Thai",
  ur: "Urdu",
  ta: "Tamil",
  te: "Telugu",
  bg: "Bulgarian",
  ko: "Korean",
  pl: "Polish",
  he: "Hebrew",
  fa: "Persian",
  vi: "Vietnamese",
  ne: "Nepali",
  sw: "Swahili",
  kn: "Kannada",
  mr: "Marathi",
  gu: "Gujarati",
  pa: "Punjabi",
  ml: "Malayalam",
  fi: "Finnish",
} as const;

const LanguageCode = z.enum(Object.keys(LANGUAGE_CODES) as [keyof typeof LANGUAGE_CODES]);

export const responseLanguage = defineChecker(
  "language:response_language",
  { language: LanguageCode },
  (response, def) => {
    let detected: string;
    try {
      detected = detectLanguage(response);
    } catch (err) {
      if (err instanceof NoFeaturesError) return PASS;
      throw err;
    }
    return detected === def.language ? PASS : fail("wrong_language", LANGUAGE_CODES[def.language], detected);
  },
);
