// The package as users get it: `npm pack` (which builds dist/ with declarations through the prepare script), the
// tarball unpacked into a scratch project's node_modules, the example of docs/library.md type-checked with tsc
// against the installed declarations and run with node, wrong uses refused by the types, deep imports closed.
// The pack runs in a staged copy of the package's sources, so the repository's own dist/ (which CLI tests running
// beside this one may be loading) is never deleted and rebuilt under them.
// Offline: npm's cache holds none of the dependencies, so `npm install <tarball>` cannot resolve them here; the
// scratch node_modules links each entry of the repository's node_modules instead and the tarball is unpacked into
// node_modules/iopo (what npm would place there).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { ROOT } from "../helpers/paths.ts";

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), "iopo-pack-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

/** The one ```ts block of docs/library.md. */
function docExample(): string {
  const doc = readFileSync(join(ROOT, "docs/library.md"), "utf8");
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)];
  assert.equal(blocks.length, 1, "docs/library.md has one TypeScript example");
  return blocks[0]![1]!;
}

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2023"],
    types: ["node"],
    strict: true,
    skipLibCheck: true,
    outDir: "out",
  },
};

/** The package's own files (package.json "files", plus package.json and the README). */
const PACKAGE_SOURCES = ["package.json", "README.md", "assets", "bin", "src", "docs"];

/** What `npm pack` and its prepare script (the build) read, copied to `dir`; node_modules linked. */
function stage(dir: string): void {
  for (const entry of [...PACKAGE_SOURCES, "scripts/build.mjs", "tsconfig.json", "tsconfig.build.json"])
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
}

before(async () => {
  const staged = join(scratch, "staged");
  stage(staged);
  const packs = join(scratch, "packs");
  mkdirSync(packs);
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", packs], {
    cwd: staged,
    maxBuffer: 64 << 20,
  });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  const files = info!.files.map((f) => f.path);
  assert.ok(files.includes("dist/index.js") && files.includes("dist/index.d.ts"), "the build and its declarations");
  assert.ok(files.includes("dist/.build-stamp") && files.includes("bin/iopo.js"));
  assert.ok(!files.some((f) => f.startsWith("test/") || f.startsWith("node_modules/")), "no tests in the package");
  // The demo's shipped base travels with the package (`iopo demo` copies it from <package>/assets/demo-base/).
  assert.ok(files.includes("assets/demo-base/model.safetensors") && files.includes("assets/demo-base/base.json"));
  const project = join(scratch, "project");
  const modules = join(project, "node_modules");
  mkdirSync(join(modules, "iopo"), { recursive: true });
  for (const entry of readdirSync(join(ROOT, "node_modules")))
    if (entry !== "iopo") symlinkSync(join(ROOT, "node_modules", entry), join(modules, entry));
  await run("tar", ["xzf", join(packs, info!.filename), "-C", join(modules, "iopo"), "--strip-components=1"]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
});

test("the docs/library.md example type-checks against the installed package and runs", async () => {
  const project = join(scratch, "project");
  writeFileSync(join(project, "example.ts"), docExample());
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ ...TSCONFIG, files: ["example.ts"] }));
  await run(process.execPath, [TSC, "-p", project], { cwd: project }).catch((err: { stdout: string }) => {
    assert.fail(`tsc failed:\n${err.stdout}`);
  });
  const { stdout } = await run(process.execPath, [join(project, "out/example.js")], { cwd: project });
  assert.match(stdout, /^reply: The sea is wide and blue\. \| rule verdict: true \| TRACE IF-S: 1$/m);
  assert.match(stdout, /^IFEval prompt-level strict: 1$/m);
  assert.match(stdout, /^quality control removed 0 repeated constraints$/m);
  assert.match(stdout, /^training: iopo, lr 0\.000005, 3 epochs$/m);
  assert.match(stdout, /^exported 14 tensors as qwen2 GGUF \(\d+ bytes\)$/m);
});

test("the declarations are real types: wrong uses fail to compile, each where expected", async () => {
  const project = join(scratch, "project");
  const wrong = [
    'import { checkResponse, exportGguf, llm, RequestEngine, schema } from "iopo";',
    'import { parseRuleSpec } from "iopo/checks/rules";',
    'checkResponse({ constraints: 3 }, "text");', // line 3: constraints must be an array
    'await exportGguf("m", "m.gguf", { dtype: "q4_k" });', // line 4: not an export dtype
    "new RequestEngine({ concurrency: 2 });", // line 5: endpoints missing
    "const id: number = schema.InstructionSchema.parse({}).id;", // line 6: id is a string
    "parseRuleSpec();", // line 7: argument missing
    'const p: llm.ChatProvider = { kind: "x", model: "y" };', // line 8: chat missing
  ].join("\n");
  writeFileSync(join(project, "wrong.ts"), `${wrong}\n`);
  writeFileSync(join(project, "tsconfig.wrong.json"), JSON.stringify({ ...TSCONFIG, files: ["wrong.ts"] }));
  const result = await run(process.execPath, [TSC, "-p", join(project, "tsconfig.wrong.json"), "--noEmit"], {
    cwd: project,
  }).then(
    () => ({ stdout: "" }),
    (err: { stdout: string }) => err,
  );
  const lines = [...result.stdout.matchAll(/^wrong\.ts\((\d+),\d+\): error/gm)].map((m) => Number(m[1]));
  assert.deepEqual([...new Set(lines)].sort(), [3, 4, 5, 6, 7, 8], result.stdout);
});

test("subpaths resolve, deep imports are closed, and the installed CLI runs", async () => {
  const project = join(scratch, "project");
  const script = [
    'const sub = await import("iopo/export");',
    'const root = await import("iopo");',
    "console.log(sub.exportGguf === root.exportGguf, typeof root.rules.checkResponse);",
    'await import("iopo/dist/model/bpe.js").catch((e) => console.log(e.code));',
  ].join("\n");
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: project });
  assert.equal(stdout, "true function\nERR_PACKAGE_PATH_NOT_EXPORTED\n");
  const cli = await run(process.execPath, [join(project, "node_modules/iopo/bin/iopo.js"), "--version"]);
  assert.equal(cli.stdout.trim(), "0.1.0");
  // The demo finds its shipped base where dist/demo/base.js looks: <package>/assets/demo-base/.
  const pkg = join(project, "node_modules/iopo");
  assert.ok(existsSync(join(pkg, "dist/demo/base.js")) && existsSync(join(pkg, "assets/demo-base/model.safetensors")));
});
