// Public surface of src/checks/rules: rule checkers for the verifiable TRACE constraint forms.
export { checkRule, ISSUE_CODES, type IssueCode, RULES, type RuleIssue, type RuleVerdict } from "./checkers.ts";
export { boundConflicts, type Conflict, type ConflictOptions, conflictsAt, findConflicts } from "./conflicts.ts";
export {
  KIND_DIMENSION,
  type ParamsOf,
  parseRuleSpec,
  RELATIONS,
  type Relation,
  RULE_KINDS,
  type RuleKind,
  type RuleSpec,
  RuleSpecSchema,
  toCheckSpec,
  validateRuleSpec,
} from "./spec.ts";
export * as measure from "./text.ts";
export { type ConstraintVerdict, checkResponse, type InstructionVerdict } from "./verdict.ts";
