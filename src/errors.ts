// One error tree for the whole project: IopoError and its families, each with structured fields.
// Messages say what was expected and what was got; data errors name `path:line` and carry a HINT.
// Secrets never go into an error: callers pass redacted values only.

export interface ErrorFields {
  /** File the error is about. */
  readonly path?: string;
  /** 1-based line in `path` (JSONL record). */
  readonly line?: number;
  /** Dotted field path inside the record, e.g. `constraints.2.text`. */
  readonly field?: string;
  /** Record id, when known. */
  readonly id?: string;
  /** What was expected, in words. */
  readonly expected?: string;
  /** What was found, in words. */
  readonly got?: string;
  /** A command or step that fixes it. */
  readonly hint?: string;
  readonly cause?: unknown;
}

function location(f: ErrorFields): string {
  if (!f.path) return "";
  return f.line !== undefined ? `${f.path}:${f.line}: ` : `${f.path}: `;
}

function compose(message: string, f: ErrorFields): string {
  let text = location(f) + message;
  if (f.id !== undefined) text += ` (id ${JSON.stringify(f.id)})`;
  if (f.field) text += ` [field ${f.field}]`;
  if (f.expected !== undefined) text += `; expected ${f.expected}`;
  if (f.got !== undefined) text += `, got ${f.got}`;
  if (f.hint) text += `\nHINT: ${f.hint}`;
  return text;
}

export class IopoError extends Error {
  readonly fields: ErrorFields;
  /** Process exit code a CLI command uses for this error (1 failure, 2 usage). */
  readonly exitCode: number = 1;
  constructor(message: string, fields: ErrorFields = {}) {
    super(compose(message, fields), fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.name = new.target.name;
    this.fields = fields;
  }
}

/** A bad option, flag or configuration value. */
export class ConfigError extends IopoError {
  override readonly exitCode: number = 2;
}
/** Bad input data: a malformed line, a missing field, a wrong type. */
export class DataError extends IopoError {}
/** Tensor shapes or dtypes that do not fit together. */
export class ShapeError extends IopoError {}
/** A model, endpoint or provider failed. */
export class ProviderError extends IopoError {}
/** A checkpoint or model directory that cannot be read or written. */
export class CheckpointError extends IopoError {}

/** Describe a value's type for an error message: `string "abc"`, `number 3`, `array`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (typeof value === "string")
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return "object";
  return `${typeof value} ${String(value)}`;
}
