// The one back-end layer's pure parts: flag checks (exactly one back end, URL schemes, --model with a URL, the
// key's variable set), credentials redacted from the printed flags and from the resume command, the per-attempt
// timeouts of local models and endpoints, and parseOptions' messages (flag names, unknown keys of a config file).

import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import {
  checkBackend,
  ENDPOINT_TIMEOUT_MS,
  LOCAL_TIMEOUT_MS,
  redactFlags,
  resumeCommand,
} from "../../src/cli/backend.ts";
import { int, parseOptions } from "../../src/cli/util.ts";
import { ConfigError } from "../../src/errors.ts";

const refused = (f: () => void, re: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof ConfigError && re.test(e.message) && /\nHINT: /.test(e.message));

test("checkBackend: exactly one back end, http(s) only, --model with a URL, the key's variable set", () => {
  refused(() => checkBackend({}), /give exactly one back end.*got none/);
  refused(() => checkBackend({ baseUrl: ["http://h/v1"], gguf: "m.gguf", model: "m" }), /got several/);
  refused(() => checkBackend({ baseUrl: ["ftp://h/v1"], model: "m" }), /--base-url: unsupported URL scheme ftp:/);
  refused(() => checkBackend({ baseUrl: ["http://h/v1"] }), /--model is required with --base-url/);
  refused(() => checkBackend({ baseUrl: ["http://h/v1"] }, "judge"), /--judge-model is required with --judge-base-url/);
  refused(
    () => checkBackend({ baseUrl: ["http://h/v1"], model: "m", apiKeyEnv: "IOPO_NOT_SET_FOR_SURE" }),
    /environment variable IOPO_NOT_SET_FOR_SURE is not set/,
  );
  checkBackend({ baseUrl: ["http://h/v1", "https://u:p@h2/v1"], model: "m" });
  checkBackend({ gguf: "m.gguf" });
  checkBackend({ modelDir: "models/x" });
  assert.ok(LOCAL_TIMEOUT_MS > ENDPOINT_TIMEOUT_MS);
});

test("credentials in URLs are redacted from printed flags and the resume command", () => {
  assert.deepEqual(redactFlags({ baseUrl: ["http://ann:pw123@h:8000/v1", "http://h2/v1"], model: "m" }), {
    baseUrl: ["http://***@h:8000/v1", "http://h2/v1"],
    model: "m",
  });
  const argv = process.argv;
  try {
    process.argv = ["node", "iopo", "train", "--base-url", "http://ann:pw123@h/v1", "--system", "be brief"];
    assert.equal(resumeCommand(["--resume"]), "iopo train --base-url 'http://***@h/v1' --system 'be brief' --resume");
    process.argv = ["node", "iopo", "train", "--resume"];
    assert.equal(resumeCommand(["--resume"]), "iopo train --resume");
  } finally {
    process.argv = argv;
  }
});

test("parseOptions names the flag, drops zod's 'Invalid input' and names unknown keys of a config file", () => {
  const S = z.strictObject({ lr: z.number().positive(), maxLen: int("max-len", 2).default(8), name: z.string() });
  refused(() => parseOptions(S, { lr: 1, maxLen: "x", name: "a" }, "train"), /^--max-len must be a number/);
  refused(() => parseOptions(S, { lr: 1, name: 3 }, "train"), /^bad option --name: expected string, received number/);
  refused(
    () => parseOptions(S, { lr: 1, name: "a", lr_warmup: 3 }, "train", "c.json"),
    /^c\.json: unknown key\(s\) "lr_warmup" in the config file/,
  );
  refused(() => parseOptions(S, { lr: 1, name: "a", fooBar: 1 }, "train"), /^unknown option\(s\) --foo-bar/);
  assert.deepEqual(parseOptions(S, { lr: 1, name: "a" }, "train"), { lr: 1, maxLen: 8, name: "a" });
});
