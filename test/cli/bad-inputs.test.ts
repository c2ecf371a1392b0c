// A table of bad inputs across the commands, each run through the real CLI (a child process) in its own directory.
// Every row asserts: the exit code (2 usage, 1 data), a message naming the file/line/flag, a HINT line, no stack
// trace (no "unexpected error", no "    at file:line:col" frames), and that nothing was written: the row's
// directory holds exactly the files it held before. Rows run 4 at a time; each is its own test.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import { type CliResult, initTinyModel, runCli } from "../helpers/cli.ts";
import { BIN } from "../helpers/paths.ts";
import { caseGroups } from "../train/helpers.ts";

// ---- fixtures ----

let root = "";
/** Shared read-only fixtures. */
let fx = "";

const line = (o: unknown) => `${JSON.stringify(o)}\n`;
const groupsText = () => caseGroups(2).map(line).join("");
const instruction = {
  id: "i1",
  description: "Write about owls.",
  constraints: [{ text: "1. Use lowercase letters only." }],
  input: null,
};
const traceLine = {
  id: "t1",
  prompt: "Write about owls.",
  constraints_splits: [{ text: "Use lowercase letters only.", type: "Lexical" }],
};

async function makeFixtures(): Promise<void> {
  root = mkdtempSync(join(tmpdir(), "iopo-bad-"));
  chmodSync(root, 0o755); // the unprivileged rows read the fixtures
  fx = join(root, "fx");
  mkdirSync(fx);
  writeFileSync(
    join(fx, "corpus.txt"),
    caseGroups(12)
      .map((g) => JSON.stringify(g))
      .join("\n"),
  );
  const made = await initTinyModel(join(fx, "model"), join(fx, "corpus.txt"));
  assert.equal(made.code, 0, made.stderr);
  // A model whose tokenizer has ids past the embedding table (an added token at id 400; vocab_size is ≤ 300).
  cpSync(join(fx, "model"), join(fx, "bigtok"), { recursive: true });
  const tokPath = join(fx, "bigtok", "tokenizer.json");
  const tok = JSON.parse(readFileSync(tokPath, "utf8"));
  tok.added_tokens.push({
    id: 400,
    content: "<|far|>",
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  writeFileSync(tokPath, JSON.stringify(tok));
  writeFileSync(join(fx, "groups.jsonl"), groupsText());
  writeFileSync(join(fx, "prompts.jsonl"), line({ id: "a", prompt: "hi" }));
  writeFileSync(join(fx, "trace.jsonl"), line(traceLine));
  writeFileSync(join(fx, "instruction.json"), JSON.stringify(instruction));
  writeFileSync(join(fx, "empty.jsonl"), "");
  writeFileSync(join(fx, "tokens.jsonl"), line({ x1: [1, 2], y1: [3], x2: [4], y2: [5] }));
}

// ---- the table ----

interface Row {
  readonly name: string;
  /** Arguments; `w` is the row's own (initially empty or `setup`-filled) directory. */
  readonly args: (w: string) => string[];
  readonly code: number;
  /** What the message must say: the file/line/flag at fault. */
  readonly says: RegExp;
  /** Text that must not appear (a secret, a wrong flag). */
  readonly never?: RegExp;
  readonly setup?: (w: string) => void;
  /**
   * Run as an unprivileged user (uid 65534) when the tests run as root, for whom no directory is read-only. The
   * row's `ro/` directory is made read-only (and `unreadable.jsonl` unreadable) in its setup.
   */
  readonly unprivileged?: boolean;
}

const DEAD = "http://127.0.0.1:1/v1"; // nothing listens: rows that reach the network would fail differently
const gen = (w: string, ...more: string[]) => [
  "generate",
  "--in",
  join(fx, "prompts.jsonl"),
  "--out",
  join(w, "o.jsonl"),
  ...more,
];
const genIn = (w: string, name: string) => [
  "generate",
  "--in",
  join(w, name),
  "--out",
  join(w, "o.jsonl"),
  "--base-url",
  DEAD,
  "--model",
  "m",
];
const train = (w: string, ...more: string[]) => [
  "train",
  "--method",
  "iopo",
  "--model",
  join(fx, "model"),
  "--data",
  join(fx, "groups.jsonl"),
  "--out",
  join(w, "run"),
  ...more,
];
const write = (name: string, text: string) => (w: string) => writeFileSync(join(w, name), text);
const readOnly = (w: string) => {
  mkdirSync(join(w, "ro"));
  chmodSync(join(w, "ro"), 0o555);
};
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

/** runCli as uid/gid 65534 (root only). */
function runUnprivileged(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      uid: NOBODY,
      gid: NOBODY,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const ROWS: Row[] = [
  // generate: back end and flags
  { name: "generate without a back end", args: (w) => gen(w), code: 2, says: /give exactly one back end.*--base-url/ },
  {
    name: "generate with two back ends",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--gguf", "x.gguf"),
    code: 2,
    says: /give exactly one back end.*got several/,
  },
  {
    name: "generate --base-url ftp://",
    args: (w) => gen(w, "--base-url", "ftp://host/v1", "--model", "m"),
    code: 2,
    says: /--base-url: unsupported URL scheme ftp:/,
  },
  {
    name: "generate --base-url not a URL",
    args: (w) => gen(w, "--base-url", "localhost 8000", "--model", "m"),
    code: 2,
    says: /--base-url: not a URL/,
  },
  {
    name: "generate --base-url with credentials and no --model",
    args: (w) => gen(w, "--base-url", "http://bob:hunter2secret@127.0.0.1:1/v1"),
    code: 2,
    says: /--model is required with --base-url/,
    never: /hunter2secret/,
  },
  {
    name: "generate ftp:// URL with credentials",
    args: (w) => gen(w, "--base-url", "ftp://bob:hunter2secret@h/v1", "--model", "m"),
    code: 2,
    says: /unsupported URL scheme/,
    never: /hunter2secret/,
  },
  {
    name: "generate --api-key-env unset",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--api-key-env", "IOPO_SURELY_UNSET_VAR"),
    code: 2,
    says: /environment variable IOPO_SURELY_UNSET_VAR is not set/,
  },
  {
    name: "generate --concurrency many",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--concurrency", "many"),
    code: 2,
    says: /--concurrency must be a number/,
  },
  {
    name: "generate --concurrency 0",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--concurrency", "0"),
    code: 2,
    says: /--concurrency must be ≥ 1/,
  },
  {
    name: "generate --temperature 5",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--temperature", "5"),
    code: 2,
    says: /--temperature must be ≤ 2/,
  },
  {
    name: "generate --max-attempts 0",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--max-attempts", "0"),
    code: 2,
    says: /--max-attempts must be ≥ 1/,
  },
  {
    name: "generate --timeout-ms 1.5",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--timeout-ms", "1.5"),
    code: 2,
    says: /--timeout-ms must be a whole number/,
  },
  {
    name: "generate unknown flag",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--temprature", "0"),
    code: 2,
    says: /unknown option '--temprature'/,
  },
  {
    name: "generate without --out",
    args: () => ["generate", "--in", join(fx, "prompts.jsonl"), "--base-url", DEAD, "--model", "m"],
    code: 2,
    says: /required option '--out <file>'/,
  },
  // generate: paths
  {
    name: "generate --in missing",
    args: (w) => genIn(w, "absent.jsonl"),
    code: 1,
    says: /absent\.jsonl: cannot read file given to --in/,
  },
  {
    name: "generate --in a directory",
    args: (w) => genIn(w, "sub"),
    setup: (w) => mkdirSync(join(w, "sub")),
    code: 1,
    says: /sub: cannot read file given to --in: it is a directory/,
  },
  {
    name: "generate --out a directory",
    args: (w) => [
      "generate",
      "--in",
      join(fx, "prompts.jsonl"),
      "--out",
      join(w, "sub"),
      "--base-url",
      DEAD,
      "--model",
      "m",
    ],
    setup: (w) => mkdirSync(join(w, "sub")),
    code: 2,
    says: /sub: --out is a directory/,
  },
  {
    name: "generate --out under a file",
    args: (w) => [
      "generate",
      "--in",
      join(fx, "prompts.jsonl"),
      "--out",
      join(w, "f", "o.jsonl"),
      "--base-url",
      DEAD,
      "--model",
      "m",
    ],
    setup: write("f", "x"),
    code: 2,
    says: /--out: a part of the path is a file/,
  },
  {
    name: "generate --stats a directory",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--stats", join(w, "sub")),
    setup: (w) => mkdirSync(join(w, "sub")),
    code: 2,
    says: /sub: --stats is a directory/,
  },
  {
    name: "generate --cache a directory",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--cache", join(w, "sub")),
    setup: (w) => mkdirSync(join(w, "sub")),
    code: 2,
    says: /sub: --cache is a directory/,
  },
  {
    name: "generate --prices broken JSON",
    args: (w) => gen(w, "--base-url", DEAD, "--model", "m", "--prices", join(w, "p.json")),
    setup: write("p.json", "{oops"),
    code: 1,
    says: /p\.json:1: malformed JSON/,
  },
  {
    name: "generate --gguf missing",
    args: (w) => gen(w, "--gguf", join(w, "absent.gguf")),
    code: 1,
    says: /absent\.gguf/,
  },
  {
    name: "generate --model-dir with a tokenizer past vocab_size",
    args: (w) => gen(w, "--model-dir", join(fx, "bigtok")),
    code: 2,
    says: /bigtok\/tokenizer\.json: the tokenizer has more ids than the model has embedding rows/,
  },
  // generate: input lines
  {
    name: "generate line without id",
    args: (w) => genIn(w, "in.jsonl"),
    setup: write("in.jsonl", line({ id: "a", prompt: "x" }) + line({ prompt: "y" })),
    code: 1,
    says: /in\.jsonl:2: missing field \[field id\]; expected string or number/,
  },
  {
    name: "generate line without prompt or messages",
    args: (w) => genIn(w, "in.jsonl"),
    setup: write("in.jsonl", line({ id: "a" })),
    code: 1,
    says: /in\.jsonl:1: missing field .*messages or prompt/,
  },
  {
    name: "generate messages as a string",
    args: (w) => genIn(w, "in.jsonl"),
    setup: write("in.jsonl", line({ id: 1, messages: "hi" })),
    code: 1,
    says: /in\.jsonl:1: wrong type .*\[field messages\]; expected array, got string "hi"/,
    never: /Invalid input/,
  },
  {
    name: "generate empty messages",
    args: (w) => genIn(w, "in.jsonl"),
    setup: write("in.jsonl", line({ id: 1, messages: [] })),
    code: 1,
    says: /in\.jsonl:1: invalid value .*\[field messages\]; expected at least 1 item/,
  },
  {
    name: "generate malformed JSON line",
    args: (w) => genIn(w, "in.jsonl"),
    setup: write("in.jsonl", `${line({ id: 1, prompt: "a" })}{"id": 2,\n`),
    code: 1,
    says: /in\.jsonl:2: malformed JSON/,
  },
  {
    name: "generate duplicate id",
    args: (w) => genIn(w, "in.jsonl"),
    setup: write("in.jsonl", line({ id: 1, prompt: "a" }) + line({ id: 1, prompt: "b" })),
    code: 1,
    says: /in\.jsonl:2: duplicate id/,
  },
  {
    name: "generate BOM then a bad line 2",
    args: (w) => genIn(w, "in.jsonl"),
    setup: write("in.jsonl", `\uFEFF${line({ id: 1, prompt: "a" })}${line({ id: 2, prompt: 3 })}`),
    code: 1,
    says: /in\.jsonl:2: wrong type .*\[field prompt\]; expected string, got number 3/,
  },
  // convert
  {
    name: "convert --out a directory",
    args: (w) => ["convert", join(fx, "groups.jsonl"), "--to", "pairs", "--out", join(w, "sub")],
    setup: (w) => mkdirSync(join(w, "sub")),
    code: 2,
    says: /sub: --out is a directory/,
  },
  {
    name: "convert --to unknown",
    args: (w) => ["convert", join(fx, "groups.jsonl"), "--to", "csv", "--out", join(w, "o.jsonl")],
    code: 2,
    says: /unknown format "csv"/,
  },
  {
    name: "convert --from unknown",
    args: (w) => [
      "convert",
      join(fx, "groups.jsonl"),
      "--from",
      "Groups",
      "--to",
      "pairs",
      "--out",
      join(w, "o.jsonl"),
    ],
    code: 2,
    says: /unknown format "Groups"/,
  },
  {
    name: "convert input missing",
    args: (w) => ["convert", join(w, "absent.jsonl"), "--to", "pairs", "--out", join(w, "o.jsonl")],
    code: 1,
    says: /absent\.jsonl: cannot read file given to <in>/,
  },
  {
    name: "convert empty input",
    args: (w) => ["convert", join(fx, "empty.jsonl"), "--to", "pairs", "--out", join(w, "o.jsonl")],
    code: 1,
    says: /empty\.jsonl: the file is empty/,
  },
  {
    name: "convert undetectable format",
    args: (w) => ["convert", join(w, "x.jsonl"), "--to", "pairs", "--out", join(w, "o.jsonl")],
    setup: write("x.jsonl", line({ foo: 1 })),
    code: 1,
    says: /x\.jsonl: cannot tell the file's format.*\nHINT: pass --from <format>/s,
  },
  {
    name: "convert malformed line 2",
    args: (w) => ["convert", join(w, "g.jsonl"), "--from", "groups", "--to", "groups", "--out", join(w, "o.jsonl")],
    setup: write("g.jsonl", `${caseGroups(1).map(line).join("")}{"x1":\n`),
    code: 1,
    says: /g\.jsonl:2: malformed JSON.*\nHINT: .*--skip-invalid/s,
  },
  {
    name: "convert wrong type on line 1",
    args: (w) => ["convert", join(w, "g.jsonl"), "--from", "groups", "--to", "pairs", "--out", join(w, "o.jsonl")],
    setup: write("g.jsonl", line({ ...(caseGroups(1)[0] as object), y1: 5 })),
    code: 1,
    says: /g\.jsonl:1: wrong type .*\[field y1\]/,
  },
  {
    name: "convert dataset_info.json a string",
    args: (w) => ["convert", join(fx, "groups.jsonl"), "--to", "llamafactory", "--out", join(w, "t.json")],
    setup: write("dataset_info.json", '"hello"'),
    code: 1,
    says: /dataset_info\.json: dataset_info\.json is not a JSON object.*got string "hello"/,
  },
  {
    name: "convert dataset_info.json an array",
    args: (w) => ["convert", join(fx, "groups.jsonl"), "--to", "llamafactory", "--out", join(w, "t.json")],
    setup: write("dataset_info.json", "[]"),
    code: 1,
    says: /dataset_info\.json is not a JSON object.*got array of 0/,
  },
  {
    name: "convert dataset_info.json broken",
    args: (w) => ["convert", join(fx, "groups.jsonl"), "--to", "llamafactory", "--out", join(w, "t.json")],
    setup: write("dataset_info.json", "{"),
    code: 1,
    says: /dataset_info\.json is not valid JSON/,
  },
  // stats, check
  {
    name: "stats missing file",
    args: (w) => ["stats", join(w, "absent.jsonl")],
    code: 1,
    says: /absent\.jsonl: cannot access the file \(ENOENT\)/,
  },
  {
    name: "stats a directory",
    args: (w) => ["stats", w, "--from", "groups"],
    code: 1,
    says: /cannot read file.*EISDIR/,
  },
  {
    name: "stats --from unknown",
    args: () => ["stats", join(fx, "groups.jsonl"), "--from", "nope"],
    code: 2,
    says: /unknown format "nope"/,
  },
  {
    name: "check --instruction missing",
    args: (w) => ["check", "--instruction", join(w, "absent.json"), "--response", join(w, "r.txt")],
    code: 1,
    says: /absent\.json: cannot read file/,
  },
  {
    name: "check --instruction wrong shape",
    args: (w) => ["check", "--instruction", join(w, "i.json"), "--response", join(w, "r.txt")],
    setup: write("i.json", JSON.stringify({ ...instruction, constraints: "none" })),
    code: 1,
    says: /i\.json: wrong type .*\[field constraints\]; expected array/,
  },
  {
    name: "check --instruction broken JSON with BOM",
    args: (w) => ["check", "--instruction", join(w, "i.json"), "--response", join(w, "r.txt")],
    setup: write("i.json", "\uFEFF{"),
    code: 1,
    says: /i\.json:1: malformed JSON/,
    never: /\uFEFF/,
  },
  {
    name: "check --response missing",
    args: (w) => ["check", "--instruction", join(fx, "instruction.json"), "--response", join(w, "absent.txt")],
    code: 1,
    says: /absent\.txt: cannot read the response file/,
  },
  // init-model
  {
    name: "init-model --vocab-from missing",
    args: (w) => ["init-model", "--out", join(w, "m"), "--vocab-from", join(w, "absent.txt")],
    code: 1,
    says: /absent\.txt: cannot read text file/,
  },
  {
    name: "init-model --hidden abc",
    args: (w) => ["init-model", "--out", join(w, "m"), "--vocab-from", join(fx, "corpus.txt"), "--hidden", "abc"],
    code: 2,
    says: /bad option --hidden/,
  },
  {
    name: "init-model --arch gpt",
    args: (w) => ["init-model", "--out", join(w, "m"), "--vocab-from", join(fx, "corpus.txt"), "--arch", "gpt"],
    code: 2,
    says: /bad option --arch.*"llama"/,
  },
  {
    name: "init-model --out a file",
    args: (w) => ["init-model", "--out", join(w, "f"), "--vocab-from", join(fx, "corpus.txt")],
    setup: write("f", "x"),
    code: 2,
    says: /f: --out is a file/,
  },
  {
    name: "init-model --out not empty",
    args: (w) => ["init-model", "--out", w, "--vocab-from", join(fx, "corpus.txt")],
    setup: write("keep.txt", "x"),
    code: 2,
    says: /output directory is not empty/,
  },
  // train
  {
    name: "train --data empty",
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(fx, "model"),
      "--data",
      join(fx, "empty.jsonl"),
      "--out",
      join(w, "run"),
    ],
    code: 1,
    says: /empty\.jsonl: the file is empty/,
    never: /--from/,
  },
  {
    name: "train --data undetectable",
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(fx, "model"),
      "--data",
      join(w, "x.jsonl"),
      "--out",
      join(w, "run"),
    ],
    setup: write("x.jsonl", line({ foo: 1 })),
    code: 1,
    says: /cannot tell the file's format.*HINT: pass --format <format>/s,
    never: /--from/,
  },
  {
    name: "train --data missing",
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(fx, "model"),
      "--data",
      join(w, "absent.jsonl"),
      "--out",
      join(w, "run"),
    ],
    code: 1,
    says: /absent\.jsonl: cannot read file given to --data/,
  },
  {
    name: "train --method unknown",
    args: (w) => train(w).map((a) => (a === "iopo" ? "ipo-x" : a)),
    code: 2,
    says: /bad option --method/,
  },
  { name: "train --lr abc", args: (w) => train(w, "--lr", "abc"), code: 2, says: /--lr must be a number/ },
  { name: "train --batch 0", args: (w) => train(w, "--batch", "0"), code: 2, says: /bad option --batch/ },
  {
    name: "train config file with an unknown key",
    args: (w) => train(w, "--config", join(w, "c.json")),
    setup: write("c.json", JSON.stringify({ lr: 1e-5, lr_warmup: 3 })),
    code: 2,
    says: /c\.json: unknown key\(s\) "lr_warmup" in the config file/,
    never: /bad option --:/,
  },
  {
    name: "train config file with a bad value",
    args: (w) => train(w, "--config", join(w, "c.json")),
    setup: write("c.json", JSON.stringify({ beta: -1 })),
    code: 2,
    says: /c\.json: bad option --beta/,
  },
  {
    name: "train config file broken",
    args: (w) => train(w, "--config", join(w, "c.json")),
    setup: write("c.json", "{lr: 1}"),
    code: 1,
    says: /c\.json:1: malformed JSON/,
  },
  {
    name: "train --out a file",
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(fx, "model"),
      "--data",
      join(fx, "groups.jsonl"),
      "--out",
      join(w, "f"),
    ],
    setup: write("f", "x"),
    code: 2,
    says: /f: --out is a file/,
  },
  {
    name: "train on TRACE instructions",
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(fx, "model"),
      "--data",
      join(fx, "trace.jsonl"),
      "--out",
      join(w, "run"),
      "--format",
      "trace",
    ],
    code: 2,
    says: /trace\.jsonl: .*instructions without responses/,
  },
  {
    name: "train with a tokenizer past vocab_size",
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(fx, "bigtok"),
      "--data",
      join(fx, "groups.jsonl"),
      "--out",
      join(w, "run"),
    ],
    code: 2,
    says: /bigtok\/tokenizer\.json: the tokenizer has more ids than the model has embedding rows/,
  },
  {
    name: "train --model missing",
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(w, "absent"),
      "--data",
      join(fx, "groups.jsonl"),
      "--out",
      join(w, "run"),
    ],
    code: 1,
    says: /absent: cannot read the directory given to --model/,
  },
  // demo, report
  {
    name: "demo --out a file",
    args: (w) => ["demo", "--out", join(w, "f"), "--quick"],
    setup: write("f", "x"),
    code: 2,
    says: /f: --out is a file/,
  },
  {
    name: "demo --seed -1",
    args: (w) => ["demo", "--out", join(w, "d"), "--seed", "-1"],
    code: 2,
    says: /--seed must be ≥ 0/,
  },
  {
    name: "report of a directory that is not a demo run",
    args: (w) => ["report", w],
    code: 2,
    says: /not a demo run directory/,
  },
  // construct
  {
    name: "construct trace without a world",
    args: (w) => ["construct", "trace", "--run", join(w, "r")],
    code: 2,
    says: /give exactly one of --offline or --base-url/,
  },
  {
    name: "construct trace --base-url ftp://",
    args: (w) => ["construct", "trace", "--run", join(w, "r"), "--base-url", "ftp://h/v1", "--model", "m"],
    code: 2,
    says: /--base-url: unsupported URL scheme ftp:/,
  },
  {
    name: "construct trace --run a file",
    args: (w) => ["construct", "trace", "--run", join(w, "f"), "--offline"],
    setup: write("f", "x"),
    code: 2,
    says: /f: --run is a file/,
  },
  {
    name: "construct trace --n 0",
    args: (w) => ["construct", "trace", "--run", join(w, "r"), "--offline", "--n", "0"],
    code: 2,
    says: /--n must be ≥ 1/,
  },
  {
    name: "construct trace --seeds missing",
    args: (w) => ["construct", "trace", "--run", join(w, "r"), "--offline", "--seeds", join(w, "absent.jsonl")],
    code: 1,
    says: /absent\.jsonl/,
  },
  {
    name: "construct groups without instructions",
    args: (w) => ["construct", "groups", "--run", w, "--offline"],
    code: 1,
    says: /instructions\.jsonl: cannot read file/,
  },
  // read-only places (EACCES): refused before any work, with a hint instead of "unexpected error"
  {
    name: "generate --out in a read-only directory",
    unprivileged: true,
    setup: readOnly,
    args: (w) => [
      "generate",
      "--in",
      join(fx, "prompts.jsonl"),
      "--out",
      join(w, "ro", "o.jsonl"),
      "--base-url",
      DEAD,
      "--model",
      "m",
    ],
    code: 2,
    says: /o\.jsonl: --out: cannot write there.*EACCES.*\nHINT: choose a writable location/s,
  },
  {
    name: "convert --out in a read-only directory",
    unprivileged: true,
    setup: readOnly,
    args: (w) => ["convert", join(fx, "groups.jsonl"), "--to", "pairs", "--out", join(w, "ro", "p.jsonl")],
    code: 2,
    says: /p\.jsonl: --out: cannot write there/,
  },
  {
    name: "train --out in a read-only directory",
    unprivileged: true,
    setup: readOnly,
    args: (w) => [
      "train",
      "--method",
      "iopo",
      "--model",
      join(fx, "model"),
      "--data",
      join(fx, "groups.jsonl"),
      "--out",
      join(w, "ro", "run"),
    ],
    code: 2,
    says: /run: --out: cannot write there/,
  },
  {
    name: "demo --out in a read-only directory",
    unprivileged: true,
    setup: readOnly,
    args: (w) => ["demo", "--quick", "--out", join(w, "ro", "d")],
    code: 2,
    says: /d: --out: cannot write there/,
  },
  {
    name: "init-model --out in a read-only directory",
    unprivileged: true,
    setup: readOnly,
    args: (w) => ["init-model", "--out", join(w, "ro", "m"), "--vocab-from", join(fx, "corpus.txt")],
    code: 2,
    says: /m: --out: cannot write there/,
  },
  {
    name: "construct --run in a read-only directory",
    unprivileged: true,
    setup: readOnly,
    args: (w) => ["construct", "trace", "--offline", "--run", join(w, "ro", "r")],
    code: 2,
    says: /r: --run: cannot write there/,
  },
  {
    name: "stats of an unreadable file",
    unprivileged: true,
    setup: (w) => {
      writeFileSync(join(w, "unreadable.jsonl"), groupsText());
      chmodSync(join(w, "unreadable.jsonl"), 0o000);
    },
    args: (w) => ["stats", join(w, "unreadable.jsonl"), "--from", "groups"],
    code: 1,
    says: /unreadable\.jsonl: cannot read file.*EACCES.*\nHINT: no permission/s,
  },
  // other commands (only what holds for them today)
  { name: "unknown command", args: () => ["frobnicate"], code: 2, says: /unknown command 'frobnicate'/ },
  {
    name: "eval ifeval without --input",
    args: (w) => ["eval", "ifeval", "--base-url", DEAD, "--model", "m", "--out", join(w, "e")],
    code: 2,
    says: /required option '--input <file>'/,
  },
  { name: "compare a directory without scores", args: (w) => ["compare", w], code: 1, says: /scores\.json/ },
];

// ---- runner ----

function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(relative(dir, join(d, e.name)) + (e.isDirectory() ? "/" : ""));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

const results = new Map<string, Promise<{ r: CliResult; before: string[]; after: string[] }>>();
let ready: () => void;
const started = new Promise<void>((resolve) => (ready = resolve));

before(async () => {
  await makeFixtures();
  let next = 0;
  const slots: (() => void)[] = [];
  const runRow = async (row: Row, i: number) => {
    const w = join(root, `row-${i}`);
    mkdirSync(w);
    row.setup?.(w);
    const beforeList = listing(w);
    const r =
      row.unprivileged && asRoot
        ? await runUnprivileged(row.args(w), w)
        : await runCli(row.args(w), { cwd: w, env: { IOPO_CACHE: join(root, "cache") } });
    return { r, before: beforeList, after: listing(w) };
  };
  // At most 4 CLIs at once.
  const gate = async () => {
    if (next < 4) {
      next++;
      return;
    }
    await new Promise<void>((resolve) => slots.push(resolve));
  };
  const release = () => {
    const wake = slots.shift();
    if (wake) wake();
    else next--;
  };
  selected.forEach((row, i) => {
    results.set(
      row.name,
      gate().then(() => runRow(row, i).finally(release)),
    );
  });
  ready();
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test("the table has at least 60 rows with distinct names", () => {
  assert.ok(ROWS.length >= 60, `${ROWS.length} rows`);
  assert.equal(new Set(ROWS.map((r) => r.name)).size, ROWS.length);
});

// BAD_INPUTS_ONLY=<regex> runs only the matching rows (while working on one command).
const only = process.env.BAD_INPUTS_ONLY ? new RegExp(process.env.BAD_INPUTS_ONLY) : undefined;
const selected = only ? ROWS.filter((r) => only.test(r.name)) : ROWS;

for (const row of selected) {
  test(row.name, async () => {
    await started;
    const { r, before: was, after: now } = await results.get(row.name)!;
    const out = `exit ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
    assert.equal(r.code, row.code, out);
    assert.match(r.stderr, row.says, out);
    assert.match(r.stderr, /^HINT: \S/m, `no HINT line\n${out}`);
    assert.doesNotMatch(r.stderr, /unexpected error|^\s+at .*:\d+:\d+\)?$/m, `stack trace\n${out}`);
    if (row.never) assert.doesNotMatch(r.stderr + r.stdout, row.never, out);
    assert.deepEqual(now, was, "the failed command left files behind");
  });
}
