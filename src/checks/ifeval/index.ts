// Public surface of the IFEval checkers: the 25 checkers and their registry, the checker contract, and the
// Python-faithful text tools they rest on (punkt sentences, nltk word_tokenize, langdetect, str helpers).

export type { Checker, CheckIssue, CheckResult, IssueCode, Relation } from "./checker.ts";
export { defineChecker } from "./checker.ts";
export { clearLanguageCache, detectableLanguages, detectLanguage, NoFeaturesError } from "./langdetect.ts";
export { LANGUAGE_CODES } from "./language.ts";
export type { PunktParams, PunktParamsFile } from "./punkt.ts";
export { englishPunktParams, loadPunktParams, PunktParamsFileSchema, punktParams, punktSentences } from "./punkt.ts";
export { PyRandom } from "./py-random.ts";
export { pyIsLower, pyIsUpper, pyRegex, pySplit, pyStrip } from "./pyre.ts";
export type { InstructionDef, InstructionId } from "./registry.ts";
export { checkInstruction, INSTRUCTION_IDS, isInstructionId, parseInstruction, REGISTRY } from "./registry.ts";
export { clearTextCaches, countCapitalWords, countSentences, countWords } from "./text.ts";
export { treebankTokenize, wordTokenize } from "./word-tokenize.ts";
